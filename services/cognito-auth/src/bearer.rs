//! Reading the bearer token a request presents (RFC 6750 section 2.1), for every web glue.

/// What a request's `Authorization` header offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presented<'a> {
    /// No bearer credentials: no header, an empty one, or another scheme's credentials (`Basic
    /// ...`). RFC 6750 section 3.1: a request that "attempted using an unsupported authentication
    /// method" lacks authentication information, and its challenge carries no error code.
    Nothing,
    /// A token (after `Bearer `, or the bare value, as API Gateway's Cognito authorizer accepts).
    Token(&'a str),
    /// A header that holds no usable bearer token (`Bearer` alone or with two values, several
    /// headers, non-ASCII).
    Garbled,
}

/// Reads the bearer token from the values of every `Authorization` header of a request, in order.
pub fn presented_token<'a>(mut values: impl Iterator<Item = &'a [u8]>) -> Presented<'a> {
    let _ = values.next();
    unimplemented!("issue 15: move premium-content's auth::presented_token here")
}
