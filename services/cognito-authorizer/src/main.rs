//! cognito-authorizer: the verifier and a route policy in front of any HTTP API.

fn main() {
    eprintln!("cognito-authorizer: not built yet (issue 15)");
    std::process::exit(2);
}
