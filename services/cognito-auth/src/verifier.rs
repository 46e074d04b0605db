//! Access-token verification: parse, signature, claims, with typed rejection reasons.
