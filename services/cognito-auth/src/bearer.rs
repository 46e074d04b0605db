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
    let Some(value) = values.next() else {
        return Presented::Nothing;
    };
    if values.next().is_some() {
        return Presented::Garbled;
    }
    parse_authorization(value)
}

/// One `Authorization` value: `Bearer <token>` (scheme in any case), a bare token, or else.
fn parse_authorization(value: &[u8]) -> Presented<'_> {
    // Visible ASCII, spaces and tabs only (RFC 9110 section 5.5 `field-vchar` without obs-text).
    if !value
        .iter()
        .all(|&byte| byte == b'\t' || (0x20..0x7f).contains(&byte))
    {
        return Presented::Garbled;
    }
    let Ok(value) = std::str::from_utf8(value) else {
        return Presented::Garbled;
    };
    let value = value.trim_matches(' ');
    if value.is_empty() {
        return Presented::Nothing;
    }
    // Only spaces separate the scheme (RFC 7235 section 2.1) and a b64token holds no whitespace
    // (RFC 6750 section 2.1); a tab, the one other whitespace a header value can hold, is garbage.
    if value.contains('\t') {
        return Presented::Garbled;
    }
    match value.split_once(' ') {
        None if value.eq_ignore_ascii_case("bearer") => Presented::Garbled,
        None => Presented::Token(value),
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => {
            let token = token.trim_start_matches(' ');
            if token.contains(' ') {
                Presented::Garbled
            } else {
                Presented::Token(token)
            }
        }
        Some(_) => Presented::Nothing,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn presented<'a>(values: &[&'a [u8]]) -> Presented<'a> {
        presented_token(values.iter().copied())
    }

    #[test]
    fn bearer_scheme_is_case_insensitive_and_bare_tokens_work() {
        for value in [
            "Bearer a.b.c",
            "bearer a.b.c",
            "BEARER   a.b.c",
            "a.b.c",
            " a.b.c ",
        ] {
            assert_eq!(
                presented(&[value.as_bytes()]),
                Presented::Token("a.b.c"),
                "{value}"
            );
        }
    }

    #[test]
    fn absent_or_empty_header_is_nothing() {
        assert_eq!(presented(&[]), Presented::Nothing);
        assert_eq!(presented(&[b""]), Presented::Nothing);
        assert_eq!(presented(&[b"   "]), Presented::Nothing);
    }

    #[test]
    fn other_schemes_are_no_bearer_credentials() {
        for value in ["Basic dXNlcjpwYXNz", "Bearerx a.b.c", "DPoP a.b.c"] {
            assert_eq!(
                presented(&[value.as_bytes()]),
                Presented::Nothing,
                "{value}"
            );
        }
    }

    #[test]
    fn odd_bearer_headers_are_garbled() {
        for values in [
            &[&b"Bearer"[..]][..],
            &[b"Bearer a.b.c d"],
            &[b"Bearer a.b.c", b"Bearer a.b.c"],
            // Found by the authorization_header fuzz target: tabs were kept inside the token.
            &[b"Bearer\ta.b.c"],
            &[b"Bearer a.b\tc"],
            &[b"a.b.c\t"],
            &[b"Bearer \xff"],
            &[b"Bearer a.b\x00c"],
            &[b"Bearer a.\x7fb.c"],
        ] {
            assert_eq!(presented(values), Presented::Garbled, "{values:?}");
        }
    }
}
