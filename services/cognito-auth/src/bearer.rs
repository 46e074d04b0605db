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
///
/// One pass over the token's bytes (it is read on every request, and a Cognito access token is
/// about a kilobyte): the rules are those of RFC 6750 section 2.1 and RFC 9110 section 5.5.
/// Only spaces separate the scheme (RFC 7235 section 2.1), a b64token holds no whitespace, and
/// a header value holds visible ASCII, spaces and tabs (`field-vchar` without obs-text): so a
/// tab or a byte outside visible ASCII anywhere is garbage, and a space inside a bearer token
/// too.
fn parse_authorization(value: &[u8]) -> Presented<'_> {
    const SCHEME: &[u8] = b"bearer";
    let value = trim_spaces(value);
    if value.is_empty() {
        return Presented::Nothing;
    }
    if value.len() > SCHEME.len()
        && value[..SCHEME.len()].eq_ignore_ascii_case(SCHEME)
        && value[SCHEME.len()] == b' '
    {
        // Trailing spaces are gone, so the token is not empty.
        let token = trim_spaces(&value[SCHEME.len() + 1..]);
        let (invalid, spaces) = scan(token);
        return match std::str::from_utf8(token) {
            Ok(token) if !invalid && !spaces => Presented::Token(token),
            _ => Presented::Garbled,
        };
    }
    let (invalid, spaces) = scan(value);
    if invalid || value.eq_ignore_ascii_case(SCHEME) {
        return Presented::Garbled;
    }
    match std::str::from_utf8(value) {
        // Another scheme's credentials (`Basic ...`).
        Ok(_) if spaces => Presented::Nothing,
        Ok(token) => Presented::Token(token),
        Err(_) => Presented::Garbled,
    }
}

/// `value` without leading and trailing spaces (not tabs: a tab is garbage, never trimmed).
fn trim_spaces(value: &[u8]) -> &[u8] {
    let start = value.iter().position(|&byte| byte != b' ');
    let end = value.iter().rposition(|&byte| byte != b' ');
    match (start, end) {
        (Some(start), Some(end)) => &value[start..=end],
        _ => &[],
    }
}

/// Whether `bytes` hold a byte outside visible ASCII and space (a tab, a control character,
/// non-ASCII), and whether they hold a space. Folded without an early exit so that the compiler
/// can check many bytes per instruction.
fn scan(bytes: &[u8]) -> (bool, bool) {
    bytes
        .iter()
        .fold((false, false), |(invalid, spaces), &byte| {
            (
                invalid | !(0x20..0x7f).contains(&byte),
                spaces | (byte == b' '),
            )
        })
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

    /// The rules as first written, several passes over the value: the single-pass parser must
    /// agree with it on every value.
    fn reference(value: &[u8]) -> Presented<'_> {
        if !value
            .iter()
            .all(|&byte| byte == b'\t' || (0x20..0x7f).contains(&byte))
        {
            return Presented::Garbled;
        }
        let value = std::str::from_utf8(value).unwrap().trim_matches(' ');
        if value.is_empty() {
            return Presented::Nothing;
        }
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

    #[test]
    fn the_single_pass_parser_agrees_with_the_rules_on_every_combination() {
        let pieces: [&[u8]; 9] = [
            b"Bearer", b"bEARER", b"bearerx", b" ", b"\t", b"a.b", b"\xff", b"\x7f", b"Basic",
        ];
        let mut values: Vec<Vec<u8>> = vec![Vec::new()];
        for _ in 0..4 {
            let longer: Vec<Vec<u8>> = values
                .iter()
                .flat_map(|value| {
                    pieces
                        .iter()
                        .map(move |piece| [value.as_slice(), piece].concat())
                })
                .collect();
            values.extend(longer);
        }
        assert!(values.len() > 6_000);
        for value in &values {
            assert_eq!(
                parse_authorization(value),
                reference(value),
                "{:?}",
                String::from_utf8_lossy(value)
            );
        }
    }
}
