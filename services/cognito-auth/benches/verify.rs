//! Verification benchmark (filled in below as the verifier lands).
fn main() {}
