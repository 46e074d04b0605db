//! Development and tests only: reading client credentials from `Authorization: Basic`, as
//! Cognito's token endpoint does. Test doubles of the token endpoint use it too, so every
//! stand-in for Cognito decodes the header the same way.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::issuer::TokenError;

/// Every character Cognito allows in a client id or a chosen client secret (`[\w+]+`, with
/// `\w` = letters, digits, `_`: AddUserPoolClientSecret, Cognito API reference), for tests that
/// carry such credentials through every source.
pub const CREDENTIAL_CHARACTERS: &str =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_+";

/// The `(client_id, client_secret)` pair of an `Authorization` header value, when its scheme is
/// `Basic` (case-insensitive); other schemes are not client authentication and give `None`.
/// A Basic value that is not base64 of UTF-8 `id:secret` is `invalid_client`.
///
/// The pair is taken as it is, split at the first `:`: Cognito documents the header as
/// `Basic Base64Encode(client_id:client_secret)` (token endpoint page, with an example of the
/// raw pair), and the clients it is used with (`curl -u`, Python `requests`, the AWS sample)
/// send it raw. RFC 6749 section 2.3.1 would form-decode both halves, turning the `+` that
/// Cognito allows in ids and secrets (`[\w+]+`) into a space; where Cognito and the RFC
/// differ, this stand-in behaves as Cognito.
pub fn decode_basic(value: &str) -> Result<Option<(String, String)>, TokenError> {
    let Some((scheme, encoded)) = value.trim().split_once(' ') else {
        return Ok(None);
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Ok(None);
    }
    let decoded = STANDARD
        .decode(encoded.trim())
        .map_err(|_| TokenError::InvalidClient)?;
    let decoded = String::from_utf8(decoded).map_err(|_| TokenError::InvalidClient)?;
    let (id, secret) = decoded.split_once(':').ok_or(TokenError::InvalidClient)?;
    Ok(Some((id.to_owned(), secret.to_owned())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(pair: &str) -> String {
        format!("Basic {}", STANDARD.encode(pair))
    }

    #[test]
    fn the_pair_is_taken_as_sent() {
        assert_eq!(
            decode_basic(&basic("1example23456789:Ab3dEf6hIj+KlMnOp+QrStUv9x")),
            Ok(Some((
                "1example23456789".into(),
                "Ab3dEf6hIj+KlMnOp+QrStUv9x".into()
            )))
        );
        // A percent-encoded pair is not decoded: `%2B` is three characters of the secret.
        assert_eq!(
            decode_basic(&basic("id:a%2Bb")),
            Ok(Some(("id".into(), "a%2Bb".into())))
        );
        // Only the first `:` separates (RFC 7617 section 2).
        assert_eq!(
            decode_basic(&basic("id:se:cret")),
            Ok(Some(("id".into(), "se:cret".into())))
        );
        assert_eq!(
            decode_basic(&format!("basic {}", STANDARD.encode("a:b"))),
            Ok(Some(("a".into(), "b".into())))
        );
    }

    #[test]
    fn other_schemes_are_ignored_and_garbage_is_invalid_client() {
        assert_eq!(decode_basic("Bearer eyJ"), Ok(None));
        assert_eq!(decode_basic("Basic"), Ok(None));
        assert_eq!(decode_basic("Basic !!!"), Err(TokenError::InvalidClient));
        assert_eq!(
            decode_basic(&basic("no-colon")),
            Err(TokenError::InvalidClient)
        );
    }
}
