//! The reverse proxy (`proxy::Upstream::forward`) mounted in an actix-web server of its own (no
//! policy: every request forwarded, with or without an identity) in front of a real upstream in
//! another language, Python's `http.server` (test-support's `EchoUpstream`), over real
//! connections: what the upstream receives, what the client gets back, streaming both ways,
//! and the upstream's failures (unreachable, closed, hanging, a body cut short).

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use cognito_auth::policy::RequestPath;
use cognito_auth::scopes::Scopes;
use cognito_auth::verifier::Claims;
use cognito_authorizer::proxy::Upstream;
use futures::StreamExt;
use serde_json::Value;
use test_support::{EchoUpstream, closed_url, echoed_header};

const ISSUER: &str = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Proxy";

/// What the proxy under test forwards with.
struct Forwarding {
    upstream: Upstream,
    identity: Option<Claims>,
}

async fn forward(
    request: HttpRequest,
    body: web::Payload,
    forwarding: web::Data<Forwarding>,
) -> HttpResponse {
    let Ok(path) = RequestPath::normalize(request.uri().path()) else {
        return HttpResponse::BadRequest().finish();
    };
    forwarding
        .upstream
        .forward(
            &request,
            body.into_inner(),
            &path,
            forwarding.identity.as_ref(),
        )
        .await
}

/// Serves `upstream` on a loopback port, forwarding every request with `identity`; answers
/// the proxy's base URL.
fn proxy(upstream: Upstream, identity: Option<Claims>) -> String {
    let data = web::Data::new(Forwarding { upstream, identity });
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .default_service(web::to(forward))
    })
    .workers(1)
    .disable_signals()
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    base
}

/// The Python upstream and a proxy in front of it forwarding with `identity`.
fn echo_behind_proxy(identity: Option<Claims>) -> (EchoUpstream, String) {
    let upstream = EchoUpstream::start();
    let base = proxy(Upstream::new(&upstream.url).unwrap(), identity);
    (upstream, base)
}

/// Speaks raw HTTP/1.1 to the proxy at `base` (what reqwest would not send): `talk` writes on
/// a fresh connection, then the answer is read until the proxy closes it.
async fn over_tcp(base: &str, talk: impl FnOnce(&mut TcpStream) + Send + 'static) -> String {
    let address = base.trim_start_matches("http://").to_owned();
    tokio::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(address).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        talk(&mut stream);
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        answer
    })
    .await
    .unwrap()
}

fn claims() -> Claims {
    Claims {
        issuer: ISSUER.to_owned(),
        client_id: "reader".to_owned(),
        subject: None,
        username: None,
        token_id: None,
        scopes: Scopes::parse("premium_api/read premium_api/write"),
        expires_at: 4_000_000_000.0,
        not_before: None,
        issued_at: None,
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

async fn echoed(response: reqwest::Response) -> Value {
    assert_eq!(response.status(), 200, "the upstream's echo");
    response.json().await.unwrap()
}

#[tokio::test]
async fn method_normalised_path_query_headers_and_body_reach_the_upstream() {
    let (_upstream, base) = echo_behind_proxy(Some(claims()));

    let response = client()
        .patch(format!("{base}/items//%7e42/?b=1+2&a=%2F&a=3"))
        .header("host", "api.example.com")
        .header("x-request-id", "r-1")
        .header("x-forwarded-for", "203.0.113.7")
        .header("x-cognito-client-id", "spoofed")
        .header("X-Cognito-Scopes", "admin")
        .header("content-type", "text/plain")
        .body("hello upstream")
        .send()
        .await
        .unwrap();
    let echo = echoed(response).await;

    assert_eq!(echo["method"], "PATCH");
    // The path as the policy judged it (empty segment, encoded `~` and trailing slash gone);
    // the query byte for byte.
    assert_eq!(echo["target"], "/items/~42?b=1+2&a=%2F&a=3");
    assert_eq!(echo["body"], "hello upstream");
    assert_eq!(echoed_header(&echo, "content-length"), ["14"]);
    assert_eq!(echoed_header(&echo, "host"), ["api.example.com"]);
    assert_eq!(echoed_header(&echo, "x-request-id"), ["r-1"]);
    assert_eq!(echoed_header(&echo, "content-type"), ["text/plain"]);
    assert_eq!(echoed_header(&echo, "x-cognito-client-id"), ["reader"]);
    assert_eq!(
        echoed_header(&echo, "x-cognito-scopes"),
        ["premium_api/read premium_api/write"]
    );
    assert_eq!(echoed_header(&echo, "x-cognito-issuer"), [ISSUER]);
    assert_eq!(
        echoed_header(&echo, "x-forwarded-for"),
        ["203.0.113.7, 127.0.0.1"]
    );
    assert_eq!(echoed_header(&echo, "x-forwarded-proto"), ["http"]);
    assert_eq!(
        echoed_header(&echo, "x-forwarded-host"),
        ["api.example.com"]
    );
}

#[tokio::test]
async fn the_path_is_the_normalised_one_under_the_base_path() {
    let upstream = EchoUpstream::start();
    let base = proxy(
        Upstream::new(&format!("{}/api/v1/", upstream.url)).unwrap(),
        None,
    );

    let echo = echoed(
        client()
            .get(format!("{base}/home/premium"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(echo["target"], "/api/v1/home/premium");
    let echo = echoed(client().get(format!("{base}/")).send().await.unwrap()).await;
    assert_eq!(echo["target"], "/api/v1/");
}

#[tokio::test]
async fn a_public_route_carries_no_identity_and_a_proxy_in_front_keeps_its_forwarded_headers() {
    let (_upstream, base) = echo_behind_proxy(None);

    let response = client()
        .get(format!("{base}/public/page"))
        .header("x-cognito-client-id", "spoofed")
        .header("x-cognito-scopes", "premium_api/write")
        .header("x-cognito-issuer", ISSUER)
        .header("x-forwarded-proto", "https")
        .header("x-forwarded-host", "shop.example.com")
        .send()
        .await
        .unwrap();
    let echo = echoed(response).await;

    for name in [
        "x-cognito-client-id",
        "x-cognito-scopes",
        "x-cognito-issuer",
    ] {
        assert!(
            echoed_header(&echo, name).is_empty(),
            "{name} was forwarded"
        );
    }
    assert_eq!(echoed_header(&echo, "x-forwarded-proto"), ["https"]);
    assert_eq!(
        echoed_header(&echo, "x-forwarded-host"),
        ["shop.example.com"]
    );
    assert_eq!(echoed_header(&echo, "x-forwarded-for"), ["127.0.0.1"]);
    assert_eq!(echo["body_length"], 0);
}

#[tokio::test]
async fn hop_by_hop_headers_stop_at_the_proxy_both_ways() {
    let (_upstream, base) = echo_behind_proxy(None);

    let response = client()
        .get(format!("{base}/hop?fixture=hop"))
        .header("connection", "keep-alive, X-Session")
        .header("x-session", "connection-specific")
        .header("keep-alive", "timeout=5")
        .header("proxy-connection", "keep-alive")
        .header("te", "trailers")
        .header("x-end-to-end", "kept")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    for name in ["x-hop", "keep-alive", "upgrade"] {
        assert!(!headers.contains_key(name), "the client got {name}");
    }
    let cookies: Vec<_> = headers.get_all("set-cookie").iter().collect();
    assert_eq!(cookies, ["a=1", "b=2"]);
    let echo: Value = response.json().await.unwrap();
    for name in ["x-session", "keep-alive", "proxy-connection", "te"] {
        assert!(
            echoed_header(&echo, name).is_empty(),
            "the upstream got {name}"
        );
    }
    assert!(
        echoed_header(&echo, "connection")
            .iter()
            .all(|value| !value.to_ascii_lowercase().contains("x-session")),
        "the client's Connection header was forwarded"
    );
    assert_eq!(echoed_header(&echo, "x-end-to-end"), ["kept"]);
}

#[tokio::test]
async fn request_bodies_stream_through_chunked_or_sized() {
    let (_upstream, base) = echo_behind_proxy(None);

    // A chunked upload of unknown length is re-chunked to the upstream.
    let parts: Vec<Result<String, std::io::Error>> =
        (0..50).map(|i| Ok(format!("part {i};"))).collect();
    let response = client()
        .post(format!("{base}/upload"))
        .body(reqwest::Body::wrap_stream(futures::stream::iter(parts)))
        .send()
        .await
        .unwrap();
    let echo = echoed(response).await;
    let expected: String = (0..50).map(|i| format!("part {i};")).collect();
    assert_eq!(echo["body"], expected);
    assert_eq!(echo["chunked"], true);

    // A large sized body arrives whole, with its length.
    let large = "0123456789abcdef".repeat(64 * 1024);
    let response = client()
        .put(format!("{base}/upload"))
        .body(large.clone())
        .send()
        .await
        .unwrap();
    let echo = echoed(response).await;
    assert_eq!(echo["body_length"], large.len());
    assert_eq!(echo["chunked"], false);
    assert_eq!(echo["body"], large);
}

#[tokio::test]
async fn a_slow_response_reaches_the_client_piece_by_piece() {
    let (_upstream, base) = echo_behind_proxy(None);

    // The upstream sends a chunk, then waits 60 s before the next: a proxy that buffered the
    // body would deliver nothing for a minute.
    let mut response = client()
        .get(format!(
            "{base}/slow?fixture=stream&chunks=2&size=7&delay=60"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let first = tokio::time::timeout(Duration::from_secs(30), response.chunk())
        .await
        .expect("the first chunk arrives before the upstream sends the rest")
        .unwrap()
        .unwrap();
    assert_eq!(&first[..], b"xxxxxxx");
}

#[tokio::test]
async fn a_body_the_upstream_cuts_short_is_never_a_complete_answer() {
    let (_upstream, base) = echo_behind_proxy(None);

    // Sized (the client sees fewer bytes than announced) and chunked (no last chunk).
    for (query, length) in [("", Some(4000)), ("&chunked=1", None)] {
        let response = client()
            .get(format!("{base}/cut?fixture=cut&size=4000{query}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "the head came whole");
        assert_eq!(response.content_length(), length);
        let mut body = response.bytes_stream();
        let mut received = 0;
        let mut failed = false;
        while let Some(chunk) = body.next().await {
            match chunk {
                Ok(bytes) => received += bytes.len(),
                Err(_) => {
                    failed = true;
                    break;
                }
            }
        }
        assert!(
            failed,
            "{query}: the body ended cleanly after {received} bytes"
        );
        assert!(received <= 2000, "{query}: {received} bytes");
    }
}

#[tokio::test]
async fn upstream_statuses_and_head_answers_pass_through() {
    let (_upstream, base) = echo_behind_proxy(None);

    let response = client()
        .delete(format!("{base}/gone?fixture=status&code=404"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let echo: Value = response.json().await.unwrap();
    assert_eq!(echo["method"], "DELETE");

    let response = client().head(format!("{base}/page")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let length: u64 = response.headers()["content-length"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(length > 0, "HEAD keeps the length a GET would have");
    assert!(response.bytes().await.unwrap().is_empty());
}

async fn failure(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    assert_eq!(
        response.headers()["content-type"],
        "application/json",
        "a JSON answer"
    );
    let body: Value = response.json().await.unwrap();
    (status, body["message"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn an_unreachable_upstream_is_502_naming_the_connection() {
    let base = proxy(Upstream::new(&closed_url("")).unwrap(), None);

    let response = client().get(format!("{base}/any")).send().await.unwrap();
    let (status, message) = failure(response).await;
    assert_eq!(status, 502);
    assert!(
        message.contains("cannot connect to the upstream"),
        "{message}"
    );
}

#[tokio::test]
async fn an_upstream_closing_without_an_answer_is_502() {
    let (_upstream, base) = echo_behind_proxy(None);

    let response = client()
        .post(format!("{base}/any?fixture=close"))
        .body("payload")
        .send()
        .await
        .unwrap();
    let (status, message) = failure(response).await;
    assert_eq!(status, 502);
    assert!(message.contains("without a valid answer"), "{message}");
}

#[tokio::test]
async fn an_upstream_silent_past_the_response_timeout_is_504() {
    let upstream = EchoUpstream::start();
    let base = proxy(
        Upstream::new(&upstream.url)
            .unwrap()
            .with_response_timeout(Duration::from_secs(1)),
        None,
    );

    let response = client()
        .get(format!("{base}/any?fixture=hang"))
        .send()
        .await
        .unwrap();
    let (status, message) = failure(response).await;
    assert_eq!(status, 504);
    assert!(message.contains("did not answer within 1 s"), "{message}");
    // The proxy still serves.
    echoed(client().get(format!("{base}/after")).send().await.unwrap()).await;
}

#[tokio::test]
async fn a_request_body_the_client_breaks_off_is_400_not_an_upstream_failure() {
    let (_upstream, base) = echo_behind_proxy(None);

    let answer = over_tcp(&base, |stream| {
        stream
            .write_all(
                b"POST /upload HTTP/1.1\r\nHost: api\r\nContent-Length: 100\r\n\r\nonly ten b",
            )
            .unwrap();
        // Done sending, 90 bytes short; the answer can still come back.
        stream.shutdown(Shutdown::Write).unwrap();
    })
    .await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(
        answer.contains("the request body could not be read"),
        "{answer}"
    );
}

#[tokio::test]
async fn an_expect_100_continue_upload_gets_the_interim_answer_and_then_the_upstreams() {
    let (_upstream, base) = echo_behind_proxy(None);

    let answer = over_tcp(&base, |stream| {
        stream
            .write_all(
                b"PUT /upload HTTP/1.1\r\nHost: api\r\nContent-Length: 5\r\n\
                  Expect: 100-continue\r\nConnection: close\r\n\r\n",
            )
            .unwrap();
        let mut interim = [0u8; 25];
        stream.read_exact(&mut interim).unwrap();
        assert_eq!(&interim, b"HTTP/1.1 100 Continue\r\n\r\n");
        stream.write_all(b"hello").unwrap();
    })
    .await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(!answer.contains("100 Continue"), "{answer}");
    let echo: Value = serde_json::from_str(answer.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    assert_eq!(echo["body"], "hello");
}
