//! One JWKS exchange over HTTP, as the RFCs describe it: what we ask for, what we accept back,
//! and how long the server lets us keep the answer.
//!
//! - Request: `GET` with `Accept: application/jwk-set+json, application/json;q=0.9` (RFC 7517
//!   section 8.5 registers the first; Cognito and most servers label the set `application/json`)
//!   and `Accept-Encoding: identity` (RFC 9110 section 12.5.3: without the header any coding is
//!   acceptable, and we decode none; the document is a few KiB).
//! - Status: only `200 OK` carries the set; anything else is [`JwksError::Status`].
//! - Media type: not a gate. The body must parse as a JWK Set whatever its label (some hosts,
//!   S3 for one, label JSON `binary/octet-stream`); when it does not and the label is not JSON
//!   either, the error names the label (an HTML error page answered with 200, say).
//! - Content coding: a body in any coding but `identity` is [`JwksError::ContentEncoding`].
//! - Caching: `Cache-Control: max-age` less `Age` (RFC 9111 sections 5.2.2.1 and 5.1) is
//!   returned as the document's freshness lifetime, `no-cache` and `no-store` as zero; the cache
//!   uses it as an upper bound on its next refresh.
//! - Redirects ([`http_client`]): at most [`MAX_REDIRECTS`], never from `https` to `http`.

use std::time::Duration;

use headers::{Age, CacheControl, HeaderMapExt};
use reqwest::StatusCode;
use reqwest::header::{ACCEPT, ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_TYPE, HeaderMap};
use reqwest::redirect::{Attempt, Policy};

use super::JwksError;

/// The `Accept` header of every JWKS request.
pub const ACCEPT_JWK_SET: &str = "application/jwk-set+json, application/json;q=0.9";

/// Redirects followed before a fetch fails.
pub const MAX_REDIRECTS: usize = 5;

/// A fetched JWKS document.
#[derive(Debug)]
pub(super) struct Fetched {
    /// The body, decoded from no coding.
    pub body: Vec<u8>,
    /// `Content-Type`, when sent.
    pub media_type: Option<String>,
    /// How long the server lets the document be kept, when it says.
    pub freshness: Option<Duration>,
}

/// The HTTP client for JWKS fetches: no idle pooled connections (fetches are minutes apart and
/// a pooled connection would only go stale), a 3 s connect timeout, `user_agent`, and the
/// redirect rule of [`redirect_verdict`].
///
/// Errors: reqwest's, when the TLS back end cannot be set up.
pub fn http_client(user_agent: &str) -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .connect_timeout(Duration::from_secs(3))
        .user_agent(user_agent)
        .redirect(Policy::custom(follow))
        .build()
}

fn follow(attempt: Attempt<'_>) -> reqwest::redirect::Action {
    match redirect_verdict(attempt.previous(), attempt.url()) {
        Ok(()) => attempt.follow(),
        Err(reason) => attempt.error(reason),
    }
}

/// Whether a redirect from the chain `previous` (oldest first) to `next` may be followed: not
/// beyond [`MAX_REDIRECTS`], and never from `https` down to `http`, which would hand the keys
/// we trust to anyone on the path. (reqwest's default policy follows such downgrades.)
pub fn redirect_verdict(previous: &[reqwest::Url], next: &reqwest::Url) -> Result<(), String> {
    if previous.len() > MAX_REDIRECTS {
        return Err(format!("more than {MAX_REDIRECTS} redirects"));
    }
    if previous.iter().any(|url| url.scheme() == "https") && next.scheme() != "https" {
        return Err(format!("redirect from https down to {}", next.scheme()));
    }
    Ok(())
}

/// Fetches `url` once, reading at most `limit` bytes of body.
pub(super) async fn fetch(
    http: &reqwest::Client,
    url: &str,
    timeout: Duration,
    limit: usize,
) -> Result<Fetched, JwksError> {
    let mut response = http
        .get(url)
        .header(ACCEPT, ACCEPT_JWK_SET)
        .header(ACCEPT_ENCODING, "identity")
        .timeout(timeout)
        .send()
        .await
        .map_err(JwksError::Http)?;
    if response.status() != StatusCode::OK {
        return Err(JwksError::Status(response.status().as_u16()));
    }
    let headers = response.headers();
    if let Some(coding) = headers.get(CONTENT_ENCODING) {
        let coding = String::from_utf8_lossy(coding.as_bytes()).trim().to_owned();
        if !coding.eq_ignore_ascii_case("identity") {
            return Err(JwksError::ContentEncoding(coding));
        }
    }
    let media_type = headers
        .get(CONTENT_TYPE)
        .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned());
    let freshness = freshness(headers);
    if response
        .content_length()
        .is_some_and(|len| len > limit as u64)
    {
        return Err(JwksError::TooLarge(limit));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(JwksError::Http)? {
        if body.len() + chunk.len() > limit {
            return Err(JwksError::TooLarge(limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Fetched {
        body,
        media_type,
        freshness,
    })
}

/// The freshness lifetime the response grants (RFC 9111 section 4.2): `max-age` less `Age`;
/// zero with `no-cache` or `no-store`; `None` when the response says nothing (or says it in
/// `Expires` alone, which we do not read: the refresh interval then applies).
pub fn freshness(headers: &HeaderMap) -> Option<Duration> {
    let control = headers.typed_get::<CacheControl>()?;
    if control.no_cache() || control.no_store() {
        return Some(Duration::ZERO);
    }
    let max_age = control.max_age()?;
    let age = headers
        .typed_get::<Age>()
        .map_or(Duration::ZERO, |age| Duration::from_secs(age.as_secs()));
    Some(max_age.saturating_sub(age))
}

/// Whether `media_type` labels JSON: `application/json` or any `+json` type (RFC 6839), which
/// includes `application/jwk-set+json`.
pub fn is_json(media_type: &str) -> bool {
    media_type
        .parse::<mime::Mime>()
        .is_ok_and(|mime| mime.subtype() == mime::JSON || mime.suffix() == Some(mime::JSON))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::Url;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn freshness_is_max_age_less_age() {
        assert_eq!(
            freshness(&headers(&[("cache-control", "public, max-age=300")])),
            Some(Duration::from_secs(300))
        );
        assert_eq!(
            freshness(&headers(&[
                ("cache-control", "max-age=300"),
                ("age", "120")
            ])),
            Some(Duration::from_secs(180))
        );
        assert_eq!(
            freshness(&headers(&[("cache-control", "max-age=60"), ("age", "600")])),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn no_cache_and_no_store_mean_stale_at_once() {
        for value in ["no-cache", "no-store", "max-age=600, no-cache"] {
            assert_eq!(
                freshness(&headers(&[("cache-control", value)])),
                Some(Duration::ZERO),
                "{value}"
            );
        }
    }

    #[test]
    fn no_freshness_without_max_age() {
        assert_eq!(freshness(&headers(&[])), None);
        assert_eq!(freshness(&headers(&[("cache-control", "public")])), None);
        assert_eq!(
            freshness(&headers(&[("expires", "Thu, 01 Jan 2099 00:00:00 GMT")])),
            None
        );
    }

    #[test]
    fn json_media_types() {
        for json in [
            "application/json",
            "application/json;charset=UTF-8",
            "application/jwk-set+json",
            "Application/JSON",
        ] {
            assert!(is_json(json), "{json}");
        }
        for other in ["text/html", "text/plain", "binary/octet-stream", "json", ""] {
            assert!(!is_json(other), "{other}");
        }
    }

    #[test]
    fn redirects_are_bounded_and_never_downgrade() {
        let https = Url::parse("https://keys.example/jwks.json").unwrap();
        let http = Url::parse("http://keys.example/jwks.json").unwrap();
        assert_eq!(
            redirect_verdict(std::slice::from_ref(&https), &https),
            Ok(())
        );
        assert_eq!(
            redirect_verdict(std::slice::from_ref(&http), &https),
            Ok(())
        );
        assert_eq!(redirect_verdict(std::slice::from_ref(&http), &http), Ok(()));
        assert_eq!(
            redirect_verdict(&[https.clone(), https.clone()], &http),
            Err("redirect from https down to http".into())
        );
        let chain = vec![http.clone(); MAX_REDIRECTS + 1];
        assert!(redirect_verdict(&chain[..MAX_REDIRECTS], &http).is_ok());
        assert!(redirect_verdict(&chain, &http).is_err());
    }
}
