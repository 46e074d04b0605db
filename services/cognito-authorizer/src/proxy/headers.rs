//! Which headers cross the proxy, each way.
//!
//! Hop-by-hop headers describe one connection, not the message, and a proxy removes them in
//! both directions (RFC 9110 section 7.6.1): `Connection` and every header it names, and the
//! fields the RFC lists as commonly connection-specific: `Proxy-Connection`, `Keep-Alive`, `TE`,
//! `Transfer-Encoding`, `Upgrade`. The body's framing is then the proxy's own on each
//! connection (the client's `Content-Length` is kept, a chunked body is re-chunked).
//!
//! The `X-Forwarded-*` headers (the de facto forms of RFC 7239's `Forwarded`, as the AWS ALB,
//! Envoy and nginx send them): `X-Forwarded-For` gets the client's address appended;
//! `X-Forwarded-Proto` and `X-Forwarded-Host` are kept when a proxy in front (the ALB, an
//! ingress) set them, since they then describe the original request, and otherwise set to
//! `http` and the `Host` the client sent. None of them is ever used to authorize.

use actix_web::HttpRequest;
use actix_web::http::header::{self as actix_header, HeaderMap as ActixHeaderMap};
use cognito_auth::authorization::IDENTITY_HEADERS;
use cognito_auth::verifier::Claims;
use cognito_auth_actix::identity_header_pairs;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

/// The hop-by-hop headers every message loses (besides those `Connection` names).
const HOP_BY_HOP: [&str; 6] = [
    "connection",
    "proxy-connection",
    "keep-alive",
    "te",
    "transfer-encoding",
    "upgrade",
];

const X_FORWARDED_FOR: &str = "x-forwarded-for";
const X_FORWARDED_PROTO: &str = "x-forwarded-proto";
const X_FORWARDED_HOST: &str = "x-forwarded-host";

/// Whether `name` (lower case) is hop-by-hop in a message whose `Connection` header values are
/// `connection`.
fn is_hop_by_hop<'a>(name: &str, mut connection: impl Iterator<Item = &'a [u8]>) -> bool {
    HOP_BY_HOP.contains(&name)
        || connection.any(|value| {
            value
                .split(|b| *b == b',')
                .any(|token| token.trim_ascii().eq_ignore_ascii_case(name.as_bytes()))
        })
}

/// Whether the client's request has a body to forward: a `Transfer-Encoding`, or a
/// `Content-Length` other than 0 (RFC 9112 section 6.3: a request with neither has none).
pub(super) fn has_body(headers: &ActixHeaderMap) -> bool {
    headers.contains_key(actix_header::TRANSFER_ENCODING)
        || headers
            .get(actix_header::CONTENT_LENGTH)
            .is_some_and(|length| length.as_bytes() != b"0")
}

/// The headers the upstream receives for `request`: the client's end-to-end ones less any
/// identity header, the identity of `identity`, and the `X-Forwarded-*` headers.
pub(super) fn upstream_request(request: &HttpRequest, identity: Option<&Claims>) -> HeaderMap {
    let incoming = request.headers();
    let connection = || {
        incoming
            .get_all(actix_header::CONNECTION)
            .map(|value| value.as_bytes())
    };
    let mut outgoing = HeaderMap::with_capacity(incoming.len() + 5);
    for (name, value) in incoming {
        let name = name.as_str();
        if is_hop_by_hop(name, connection()) || IDENTITY_HEADERS.contains(&name) {
            continue;
        }
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_bytes(value.as_bytes()),
        ) {
            outgoing.append(name, value);
        }
    }
    if let Some(claims) = identity {
        for (name, value) in identity_header_pairs(claims) {
            if let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(name.as_str().as_bytes()),
                HeaderValue::from_bytes(value.as_bytes()),
            ) {
                outgoing.insert(name, value);
            }
        }
    }
    forwarded(request, &mut outgoing);
    outgoing
}

/// Appends the client's address to `X-Forwarded-For` (joining the values proxies in front
/// left, as one field) and sets `X-Forwarded-Proto` / `X-Forwarded-Host` when absent.
fn forwarded(request: &HttpRequest, outgoing: &mut HeaderMap) {
    if let Some(peer) = request.peer_addr() {
        let mut chain: Vec<&[u8]> = outgoing
            .get_all(X_FORWARDED_FOR)
            .iter()
            .map(HeaderValue::as_bytes)
            .collect();
        let peer = peer.ip().to_string();
        chain.push(peer.as_bytes());
        if let Ok(value) = HeaderValue::from_bytes(&chain.join(&b", "[..])) {
            outgoing.insert(X_FORWARDED_FOR, value);
        }
    }
    if !outgoing.contains_key(X_FORWARDED_PROTO) {
        outgoing.insert(X_FORWARDED_PROTO, HeaderValue::from_static("http"));
    }
    if !outgoing.contains_key(X_FORWARDED_HOST)
        && let Some(host) = outgoing.get(reqwest::header::HOST).cloned()
    {
        outgoing.insert(X_FORWARDED_HOST, host);
    }
}

/// The upstream's response headers the client receives: all but the hop-by-hop ones, as actix
/// header pairs in their order.
pub(super) fn client_response(
    headers: &HeaderMap,
) -> Vec<(actix_header::HeaderName, actix_header::HeaderValue)> {
    let connection = || {
        headers
            .get_all(reqwest::header::CONNECTION)
            .iter()
            .map(HeaderValue::as_bytes)
    };
    headers
        .iter()
        .filter(|(name, _)| !is_hop_by_hop(name.as_str(), connection()))
        .filter_map(|(name, value)| {
            Some((
                actix_header::HeaderName::from_bytes(name.as_str().as_bytes()).ok()?,
                actix_header::HeaderValue::from_bytes(value.as_bytes()).ok()?,
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_names_more_hop_by_hop_headers_in_any_case_and_spacing() {
        let connection: [&[u8]; 2] = [b"close, X-Session ", b"x-trace"];
        assert!(is_hop_by_hop("x-session", connection.into_iter()));
        assert!(is_hop_by_hop("x-trace", connection.into_iter()));
        assert!(is_hop_by_hop("keep-alive", std::iter::empty()));
        assert!(!is_hop_by_hop("x-sessions", connection.into_iter()));
        assert!(!is_hop_by_hop("authorization", connection.into_iter()));
    }
}
