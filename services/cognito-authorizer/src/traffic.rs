//! The traffic port (`LISTEN_ADDR`): the three ways in of the contract, told apart by the raw
//! request path (never a decoded one, which could be spelled to look like another):
//!
//! - `/ext_authz<original path>`, any method: Envoy's HTTP `ext_authz` check. Envoy sends the
//!   original method, `path_prefix` + the original path and query, `Host`, `Authorization` and
//!   the headers `allowed_headers` lets through, with no body (Envoy's ext_authz filter
//!   documentation, "HTTP service");
//! - `GET /auth`: ingress-nginx's `auth-url` subrequest, the client's headers plus
//!   `X-Original-Method` and `X-Original-URL` (`$scheme://$http_host$request_uri`) (the
//!   ingress-nginx annotations documentation, "External Authentication");
//! - anything else: proxied to `UPSTREAM_URL` when allowed, or 404 without one.
//!
//! A check answers 200 with the identity headers on allow, else the deny answer (which Envoy
//! and nginx pass on to the client). Envoy sets an allowed answer's headers named in
//! `allowed_upstream_headers` on the upstream request, replacing the client's values, and then
//! removes those `x-envoy-auth-headers-to-remove` lists (ext_authz.cc, `onComplete`: set, add,
//! append, then remove). So an allow with a verified identity sends the identity headers and no
//! removal list (one would remove them again), and an allow without one (a public route) lists
//! them for removal, so that the client's own never reach the upstream (both shown by a real
//! Envoy in e2e/tests/peers.rs). ingress-nginx sets each `auth-response-headers` header from the
//! answer, empty (so not sent) when absent.

use std::sync::Arc;

use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode, Uri};
use actix_web::{HttpRequest, HttpResponse};
use cognito_auth::authorization::Grant;
use cognito_auth_actix::{
    Decision, SharedAuthorizer, decide, deny_response, identity_header_pairs,
};

use crate::metrics::{Metrics, Mode};
use crate::proxy::Upstream;

/// The realm named in `WWW-Authenticate` challenges.
pub const REALM: &str = "cognito-authorizer";
/// Envoy's `path_prefix` for the ext_authz check.
pub const EXT_AUTHZ_PREFIX: &str = "/ext_authz";
/// ingress-nginx's `auth-url` path.
pub const AUTH_PATH: &str = "/auth";

/// The header Envoy's HTTP ext_authz reads from an allowed answer: the request headers to
/// remove (after the answer's own are set).
const ENVOY_HEADERS_TO_REMOVE: &str = "x-envoy-auth-headers-to-remove";

/// What the traffic port's handler needs.
#[derive(Debug)]
pub(crate) struct Traffic {
    pub authorizer: SharedAuthorizer,
    pub metrics: Arc<Metrics>,
    pub upstream: Option<Upstream>,
}

/// Every request of the traffic port. A service of its own rather than a handler with
/// extractors: a check reads neither a body nor app data, and this is the hot path of every
/// check (extracting them showed in its profile).
pub(crate) async fn serve(request: ServiceRequest, traffic: &Traffic) -> ServiceResponse {
    let (request, body) = request.into_parts();
    let response = answer(&request, body, traffic).await;
    ServiceResponse::new(request, response)
}

async fn answer(request: &HttpRequest, body: Payload, traffic: &Traffic) -> HttpResponse {
    let raw_path = request.uri().path();
    if let Some(original) = ext_authz_path(raw_path) {
        let method = request.method().as_str();
        return check(traffic, Mode::ExtAuthz, method, original, request).await;
    }
    if raw_path == AUTH_PATH && request.method() == Method::GET {
        return auth_url(traffic, request).await;
    }
    let Some(upstream) = &traffic.upstream else {
        return json(StatusCode::NOT_FOUND, r#"{"message":"Not Found"}"#);
    };
    let authorizer = traffic.authorizer.current();
    let decision = decide(
        &authorizer,
        request.method().as_str(),
        raw_path,
        request.headers(),
    )
    .await;
    traffic.metrics.decision(Mode::Proxy, &decision);
    match decision.outcome {
        Ok((path, grant)) => {
            let identity = match &grant {
                Grant::Verified(claims) => Some(&**claims),
                Grant::Public => None,
            };
            upstream.forward(request, body, &path, identity).await
        }
        Err(denial) => deny_response(&denial, REALM),
    }
}

/// The original path of an ext_authz check: what follows [`EXT_AUTHZ_PREFIX`] when that is a
/// whole segment (`/ext_authz` alone checks `/`).
fn ext_authz_path(raw_path: &str) -> Option<&str> {
    match raw_path.strip_prefix(EXT_AUTHZ_PREFIX)? {
        "" => Some("/"),
        rest if rest.starts_with('/') => Some(rest),
        _ => None,
    }
}

/// ingress-nginx's check of `X-Original-Method` on the path of `X-Original-URL`; 400 when
/// either is missing or unusable.
async fn auth_url(traffic: &Traffic, request: &HttpRequest) -> HttpResponse {
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
    };
    let method = header("x-original-method").and_then(|m| Method::from_bytes(m.as_bytes()).ok());
    // Absolute (`https://host/path?query`) as nginx sends it, or just the path and query.
    let url = header("x-original-url").and_then(|url| url.parse::<Uri>().ok());
    let (Some(method), Some(url)) = (method, url) else {
        return json(StatusCode::BAD_REQUEST, r#"{"message":"Bad Request"}"#);
    };
    if url.path().is_empty() || !url.path().starts_with('/') {
        return json(StatusCode::BAD_REQUEST, r#"{"message":"Bad Request"}"#);
    }
    check(traffic, Mode::AuthUrl, method.as_str(), url.path(), request).await
}

/// A check of `method` on `raw_path` with the credentials of `request`: 200 with the identity
/// headers, or the deny answer.
async fn check(
    traffic: &Traffic,
    mode: Mode,
    method: &str,
    raw_path: &str,
    request: &HttpRequest,
) -> HttpResponse {
    let authorizer = traffic.authorizer.current();
    let decision: Decision = decide(&authorizer, method, raw_path, request.headers()).await;
    traffic.metrics.decision(mode, &decision);
    match decision.outcome {
        Ok((_, grant)) => {
            // Headers set on the response itself, not through the builder's conversions.
            let mut answer = HttpResponse::new(StatusCode::OK);
            let headers = answer.headers_mut();
            if let Grant::Verified(claims) = &grant {
                for (name, value) in identity_header_pairs(claims) {
                    headers.insert(name, value);
                }
            } else {
                headers.insert(
                    HeaderName::from_static(ENVOY_HEADERS_TO_REMOVE),
                    HeaderValue::from_static(IDENTITY_HEADER_LIST),
                );
            }
            answer
        }
        Err(denial) => deny_response(&denial, REALM),
    }
}

/// [`IDENTITY_HEADERS`], comma-separated (checked by a test).
const IDENTITY_HEADER_LIST: &str = "x-cognito-client-id,x-cognito-scopes,x-cognito-issuer";

fn json(status: StatusCode, body: &'static str) -> HttpResponse {
    HttpResponse::build(status)
        .content_type(actix_web::http::header::ContentType::json())
        .body(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cognito_auth::authorization::IDENTITY_HEADERS;

    #[test]
    fn the_identity_headers_to_remove_are_all_of_them() {
        assert_eq!(IDENTITY_HEADER_LIST, IDENTITY_HEADERS.join(","));
    }

    #[test]
    fn only_a_whole_prefix_segment_is_a_check() {
        assert_eq!(
            ext_authz_path("/ext_authz/home/premium"),
            Some("/home/premium")
        );
        assert_eq!(ext_authz_path("/ext_authz"), Some("/"));
        assert_eq!(ext_authz_path("/ext_authz/"), Some("/"));
        assert_eq!(ext_authz_path("/ext_authzx/a"), None);
        assert_eq!(ext_authz_path("/home/ext_authz/a"), None);
    }
}
