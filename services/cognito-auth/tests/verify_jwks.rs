//! The JWKS cache against a real local HTTP server: background loading with retries, the
//! unknown-kid penalty box, single flight, outages, timeouts, rotation and periodic refresh, and
//! the HTTP exchange itself (request headers, statuses, media types, codings, caching headers,
//! redirects).

use std::sync::Arc;
use std::time::{Duration, Instant};

use cognito_auth::clock::ManualClock;
use cognito_auth::jwks::{JwksCache, JwksError, JwksSettings, KeyLookup, http_client};
use local_cognito::jwks_server::JwksServer;
use local_cognito::keys::SigningKey;

fn fast_settings() -> JwksSettings {
    JwksSettings {
        fetch_timeout: Duration::from_secs(2),
        refresh_interval: Duration::from_secs(3600),
        min_refresh_interval: Duration::from_millis(20),
        unknown_kid_cooldown: Duration::from_secs(10),
        initial_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(80),
        max_document_bytes: 64 * 1024,
    }
}

/// A cache of `server`'s JWKS with `settings`, loading and refreshing in the background.
/// A cache of `server`'s keys with [`fast_settings`], on a clock the test moves by hand.
fn cache_on_a_manual_clock(server: &JwksServer) -> (JwksCache, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::at(1_800_000_000.0));
    let cache = JwksCache::with_clock(
        server.url.clone(),
        reqwest::Client::new(),
        fast_settings(),
        clock.clone(),
    );
    (cache, clock)
}

fn background_cache(server: &JwksServer, settings: JwksSettings) -> Arc<JwksCache> {
    let cache = Arc::new(JwksCache::new(
        server.url.clone(),
        reqwest::Client::new(),
        settings,
    ));
    cache.start_background();
    cache
}

fn found(lookup: &KeyLookup) -> bool {
    matches!(lookup, KeyLookup::Found(_))
}

async fn eventually(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn background_load_retries_until_the_jwks_answers() {
    let key = SigningKey::generate("a");
    let server = JwksServer::start(&[&key]);
    server.set_failing(true);
    let cache = Arc::new(JwksCache::new(
        server.url.clone(),
        reqwest::Client::new(),
        fast_settings(),
    ));
    cache.start_background();
    // The server counts a request before the cache has read its answer: wait on the cache's own
    // count of failures, which is complete once it is seen.
    eventually("three failed attempts", || cache.stats().failures() >= 3).await;
    assert!(server.hits() >= 3);
    assert!(!cache.is_ready());
    assert!(matches!(cache.cached_key("a"), KeyLookup::NotLoaded));

    server.set_failing(false);
    eventually("readiness", || cache.is_ready()).await;
    assert!(found(&cache.cached_key("a")));
    let settled = server.hits();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(server.hits(), settled, "no retries once loaded");
}

#[tokio::test]
async fn unknown_kid_storm_costs_at_most_one_fetch_per_ten_seconds() {
    let key = SigningKey::generate("a");
    let server = JwksServer::start(&[&key]);
    let (cache, clock) = cache_on_a_manual_clock(&server);
    let cache = Arc::new(cache);
    cache.refresh().await.unwrap();
    assert_eq!(server.hits(), 1);

    let storm = |round: usize| {
        let cache = cache.clone();
        async move {
            let lookups = (0..200).map(|i| {
                let cache = cache.clone();
                tokio::spawn(async move { cache.key(&format!("random-{round}-{i}")).await })
            });
            for lookup in futures::future::join_all(lookups).await {
                assert!(matches!(lookup.unwrap(), KeyLookup::Unknown));
            }
        }
    };
    // The load does not count: only refetches caused by unknown kids are rationed.
    storm(0).await;
    assert_eq!(server.hits(), 2, "one refetch for 200 unknown kids");
    storm(1).await;
    assert_eq!(server.hits(), 2, "in the penalty box");
    clock.advance(Duration::from_secs(9));
    storm(2).await;
    assert_eq!(server.hits(), 2, "still in the penalty box");
    clock.advance(Duration::from_secs(1));
    storm(3).await;
    assert_eq!(server.hits(), 3, "next window, one more refetch");
    // A periodic refresh does not open the penalty box either.
    cache.refresh().await.unwrap();
    storm(4).await;
    assert_eq!(server.hits(), 4);
    // Known kids never touch the network.
    for _ in 0..100 {
        assert!(found(&cache.key("a").await));
    }
    assert_eq!(server.hits(), 4);
}

#[tokio::test]
async fn concurrent_lookups_of_a_rotated_kid_share_one_fetch() {
    let old = SigningKey::generate("old");
    let new = SigningKey::generate("new");
    let server = JwksServer::start(&[&old]);
    let (cache, _clock) = cache_on_a_manual_clock(&server);
    let cache = Arc::new(cache);
    cache.refresh().await.unwrap();

    server.publish(&[&old, &new]);
    server.set_delay(Duration::from_millis(300));
    let lookups = (0..50).map(|_| {
        let cache = cache.clone();
        tokio::spawn(async move { cache.key("new").await })
    });
    for lookup in futures::future::join_all(lookups).await {
        assert!(found(&lookup.unwrap()));
    }
    assert_eq!(server.hits(), 2, "the load plus exactly one shared refetch");
    assert!(found(&cache.cached_key("old")));
}

#[tokio::test]
async fn cached_keys_survive_an_outage() {
    let key = SigningKey::generate("a");
    let server = JwksServer::start(&[&key]);
    let (cache, clock) = cache_on_a_manual_clock(&server);
    cache.refresh().await.unwrap();

    server.set_failing(true);
    assert!(matches!(cache.refresh().await, Err(JwksError::Status(503))));
    clock.advance(Duration::from_secs(30));
    assert!(matches!(cache.key("other").await, KeyLookup::Unknown));
    assert!(found(&cache.key("a").await));
    assert!(cache.is_ready());
    assert_eq!(cache.stats().fetches(), 3);
    assert_eq!(cache.stats().failures(), 2);

    // A broken document is a failure too, not an empty key set.
    server.set_failing(false);
    server.publish_raw(b"{\"keys\":[]}".to_vec());
    assert!(matches!(
        cache.refresh().await,
        Err(JwksError::NoUsableKeys)
    ));
    server.publish_raw(b"<html>maintenance</html>".to_vec());
    assert!(matches!(
        cache.refresh().await,
        Err(JwksError::Malformed(_))
    ));
    assert!(found(&cache.key("a").await));
}

#[tokio::test]
async fn fetches_time_out() {
    let key = SigningKey::generate("a");
    let server = JwksServer::start(&[&key]);
    server.set_delay(Duration::from_secs(30));
    let cache = JwksCache::new(
        server.url.clone(),
        reqwest::Client::new(),
        JwksSettings {
            fetch_timeout: Duration::from_millis(200),
            ..fast_settings()
        },
    );
    let started = Instant::now();
    assert!(matches!(cache.refresh().await, Err(JwksError::Http(_))));
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(!cache.is_ready());
}

#[tokio::test]
async fn oversized_documents_are_refused() {
    let key = SigningKey::generate("a");
    let server = JwksServer::start(&[&key]);
    let cache = JwksCache::new(server.url.clone(), reqwest::Client::new(), fast_settings());
    cache.refresh().await.unwrap();
    let mut huge = br#"{"keys":[],"padding":""#.to_vec();
    huge.extend(std::iter::repeat_n(b'x', 100 * 1024));
    huge.extend_from_slice(b"\"}");
    server.publish_raw(huge);
    assert!(matches!(cache.refresh().await, Err(JwksError::TooLarge(_))));
    assert!(found(&cache.cached_key("a")));
}

#[tokio::test]
async fn rotation_replaces_the_set_and_periodic_refresh_picks_it_up() {
    let old = SigningKey::generate("old");
    let new = SigningKey::generate("new");
    let server = JwksServer::start(&[&old]);
    let cache = background_cache(
        &server,
        JwksSettings {
            refresh_interval: Duration::from_millis(100),
            ..fast_settings()
        },
    );
    eventually("readiness", || cache.is_ready()).await;
    server.publish(&[&new]);
    // Only the periodic refresh can bring the new key in: nothing looks it up.
    eventually("the rotated key", || found(&cache.cached_key("new"))).await;
    assert!(matches!(cache.cached_key("old"), KeyLookup::Unknown));
}

#[tokio::test]
async fn dropping_the_cache_stops_its_background_task() {
    let key = SigningKey::generate("a");
    let server = JwksServer::start(&[&key]);
    let cache = background_cache(
        &server,
        JwksSettings {
            refresh_interval: Duration::from_millis(30),
            ..fast_settings()
        },
    );
    eventually("a few refreshes", || server.hits() >= 3).await;
    drop(cache);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let after_drop = server.hits();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(server.hits(), after_drop);
}

// ---- the HTTP exchange ----

#[tokio::test]
async fn requests_ask_for_a_jwk_set_without_content_coding() {
    let key = SigningKey::generate("a");
    let server = JwksServer::start(&[&key]);
    let http = http_client("cognito-auth-test/1").unwrap();
    let cache = JwksCache::new(server.url.clone(), http, fast_settings());
    cache.refresh().await.unwrap();
    let request = server.last_request().unwrap();
    assert_eq!(request.method, "GET");
    assert_eq!(request.path, "/.well-known/jwks.json");
    assert_eq!(
        request.header("accept"),
        Some("application/jwk-set+json, application/json;q=0.9")
    );
    assert_eq!(request.header("accept-encoding"), Some("identity"));
    assert_eq!(request.header("user-agent"), Some("cognito-auth-test/1"));
}

#[tokio::test]
async fn only_200_carries_the_key_set() {
    let key = SigningKey::generate("a");
    let server = JwksServer::start(&[&key]);
    let cache = JwksCache::new(server.url.clone(), reqwest::Client::new(), fast_settings());
    for status in [203, 204, 206] {
        server.set_status(status);
        assert!(
            matches!(cache.refresh().await, Err(JwksError::Status(s)) if s == status),
            "{status}"
        );
    }
    assert!(!cache.is_ready());
}

#[tokio::test]
async fn the_body_decides_not_the_label_but_errors_name_a_foreign_label() {
    let key = SigningKey::generate("a");
    let server = JwksServer::start(&[&key]);
    let cache = JwksCache::new(server.url.clone(), reqwest::Client::new(), fast_settings());
    for label in [
        "application/jwk-set+json",
        "binary/octet-stream",
        "text/plain",
    ] {
        server.set_header("content-type", label);
        cache
            .refresh()
            .await
            .unwrap_or_else(|e| panic!("{label}: {e}"));
    }
    server.set_header("content-type", "text/html; charset=utf-8");
    server.publish_raw(b"<html>captive portal</html>".to_vec());
    let error = cache.refresh().await.unwrap_err();
    assert!(matches!(&error, JwksError::NotJson(label) if label == "text/html; charset=utf-8"));
    assert_eq!(
        error.to_string(),
        "JWKS answer is text/html; charset=utf-8, not a JWK Set"
    );
    assert!(found(&cache.cached_key("a")), "the keys loaded before stay");
}

#[tokio::test]
async fn a_content_coding_we_did_not_ask_for_is_refused() {
    let key = SigningKey::generate("a");
    let server = JwksServer::start(&[&key]);
    server.set_header("content-encoding", "gzip");
    let cache = JwksCache::new(server.url.clone(), reqwest::Client::new(), fast_settings());
    assert!(matches!(
        cache.refresh().await,
        Err(JwksError::ContentEncoding(coding)) if coding == "gzip"
    ));
    server.set_header("content-encoding", "identity");
    cache.refresh().await.unwrap();
}

#[tokio::test]
async fn max_age_bounds_the_next_refresh() {
    let key = SigningKey::generate("a");
    let server = JwksServer::start(&[&key]);
    let settings = JwksSettings {
        refresh_interval: Duration::from_secs(600),
        min_refresh_interval: Duration::from_secs(60),
        ..fast_settings()
    };
    let cache = JwksCache::new(server.url.clone(), reqwest::Client::new(), settings);
    cache.refresh().await.unwrap();
    assert_eq!(cache.next_refresh(), Duration::from_secs(600), "no header");
    for (control, age, next) in [
        ("public, max-age=300", None, 300),
        ("max-age=300", Some("100"), 200),
        ("max-age=86400", None, 600),
        ("max-age=5", None, 60),
        ("no-cache", None, 60),
    ] {
        server.set_header("cache-control", control);
        server.set_header("age", age.unwrap_or("0"));
        cache.refresh().await.unwrap();
        assert_eq!(
            cache.next_refresh(),
            Duration::from_secs(next),
            "{control} {age:?}"
        );
    }
}

#[tokio::test]
async fn a_short_max_age_brings_the_periodic_refresh_forward() {
    let key = SigningKey::generate("a");
    let server = JwksServer::start(&[&key]);
    server.set_header("cache-control", "max-age=0");
    let _cache = background_cache(
        &server,
        JwksSettings {
            min_refresh_interval: Duration::from_millis(50),
            ..fast_settings()
        },
    );
    // With the hour-long refresh interval alone there would be exactly one fetch.
    eventually("refreshes bounded by max-age", || server.hits() >= 3).await;
}

#[tokio::test]
async fn redirects_are_followed_a_few_times() {
    let key = SigningKey::generate("a");
    let target = JwksServer::start(&[&key]);
    let hop = JwksServer::start(&[]);
    hop.set_status(302);
    hop.set_header("location", &target.url);
    let http = http_client("test").unwrap();
    let cache = JwksCache::new(hop.url.clone(), http.clone(), fast_settings());
    cache.refresh().await.unwrap();
    assert!(found(&cache.cached_key("a")));

    let looping = JwksServer::start(&[]);
    looping.set_status(307);
    looping.set_header("location", &looping.url);
    let cache = JwksCache::new(looping.url.clone(), http, fast_settings());
    assert!(matches!(cache.refresh().await, Err(JwksError::Http(_))));
    assert_eq!(looping.hits(), 6, "the request and five redirects, no more");
}

#[tokio::test]
async fn a_lookup_before_any_load_fetches_the_keys() {
    let key = SigningKey::generate("a");
    let server = JwksServer::start(&[&key]);
    let cache = JwksCache::new(server.url.clone(), reqwest::Client::new(), fast_settings());
    assert!(matches!(cache.cached_key("a"), KeyLookup::NotLoaded));
    assert!(found(&cache.key("a").await));
    assert_eq!(server.hits(), 1);
}

#[tokio::test]
async fn lookups_while_nothing_loads_stay_not_loaded_inside_the_penalty_box() {
    let key = SigningKey::generate("a");
    let server = JwksServer::start(&[&key]);
    server.set_failing(true);
    let (cache, clock) = cache_on_a_manual_clock(&server);
    assert!(matches!(cache.key("a").await, KeyLookup::NotLoaded));
    assert_eq!(server.hits(), 1);
    // Not "unknown": the token is not at fault, its keys could not be fetched.
    assert!(matches!(cache.key("a").await, KeyLookup::NotLoaded));
    assert_eq!(server.hits(), 1, "in the penalty box");
    server.set_failing(false);
    clock.advance(Duration::from_secs(10));
    assert!(found(&cache.key("a").await));
    assert_eq!(server.hits(), 2);
}
