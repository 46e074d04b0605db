//! The authorizer end to end: a policy parsed from YAML, real RS256 tokens, keys fetched over
//! HTTP from a JWKS server per issuer; every grant and every denial, several pools each with
//! its own client allow-list, both issuer forms of a user pool.

mod token_issuers;

use std::sync::Arc;
use std::time::Duration;

use cognito_auth::authorization::{Authorizer, Denial, Grant, IDENTITY_HEADERS, identity_headers};
use cognito_auth::bearer::Presented;
use cognito_auth::jwks::JwksSettings;
use cognito_auth::policy::{Policy, RequestPath};
use cognito_auth::trusted_issuers::{IssuerJwks, TrustedIssuers, TrustedPool};
use cognito_auth::verifier::{Rejection, Verifier, VerifierConfig};
use token_issuers::{TokenIssuer, authorizer};

const READ: &str = "premium_api/read";
const WRITE: &str = "premium_api/write";

/// Pool A allows two clients, pool B (updated issuer form) any client, pool C's JWKS is down.
struct Pools {
    a: TokenIssuer,
    b: TokenIssuer,
    c: TokenIssuer,
}

impl Pools {
    fn start() -> Self {
        let pools = Self {
            a: TokenIssuer::start("https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_PoolA"),
            b: TokenIssuer::start(
                "https://issuer-cognito-idp.us-east-1.amazonaws.com/us-east-1_PoolB",
            ),
            c: TokenIssuer::start("https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_PoolC"),
        };
        pools.c.jwks.set_failing(true);
        pools
    }

    fn policy(&self, default: &str) -> String {
        format!(
            "issuers:\n{}{}{}rules:
  - path: /public/**
    public: true
  - path: /home/premium
    methods: [GET]
    scopes: [{READ}, {WRITE}]
  - path: /home/premium
    methods: [post, put]
    scopes: [{WRITE}]
  - path: /admin/**
    allScopes: [{READ}, {WRITE}]
  - path: /me
default: {default}
",
            self.a.policy_entry(&["client-a1", "client-a2"]),
            self.b.policy_entry(&[]),
            self.c.policy_entry(&[]),
        )
    }
}

fn path(raw: &str) -> RequestPath {
    RequestPath::normalize(raw).unwrap()
}

fn verified(result: Result<Grant, Denial>) -> std::sync::Arc<cognito_auth::verifier::Claims> {
    match result {
        Ok(Grant::Verified(claims)) => claims,
        other => panic!("expected a verified grant, got {other:?}"),
    }
}

#[tokio::test]
async fn public_routes_never_look_at_the_token() {
    let pools = Pools::start();
    let authorizer = authorizer(&pools.policy("deny"));
    let forged = pools.b.claims("client-b", &[READ]).sign(&pools.a.key);
    for credentials in [
        Presented::Nothing,
        Presented::Garbled,
        Presented::Token("not.a.token"),
        Presented::Token(&forged),
    ] {
        for method in ["GET", "post", "DELETE"] {
            let grant = authorizer
                .authorize(method, &path("/public/docs/index.html"), credentials)
                .await;
            assert_eq!(grant, Ok(Grant::Public), "{method} {credentials:?}");
        }
    }
    // Nothing was fetched: no token was looked at.
    assert_eq!(pools.a.jwks.hits() + pools.b.jwks.hits(), 0);
}

#[tokio::test]
async fn any_of_the_scopes_grants_and_head_goes_with_get() {
    let pools = Pools::start();
    let authorizer = authorizer(&pools.policy("deny"));
    for (scopes, client) in [(&[READ][..], "client-a1"), (&[WRITE], "client-a2")] {
        let token = pools.a.token(client, scopes);
        for method in ["GET", "get", "HEAD"] {
            let claims = verified(
                authorizer
                    .authorize(method, &path("/home/premium"), Presented::Token(&token))
                    .await,
            );
            assert_eq!(claims.client_id, client);
            assert_eq!(claims.issuer, pools.a.iss);
        }
    }
    let reader = pools.a.token("client-a1", &[READ, "other/scope"]);
    let denial = authorizer
        .authorize("POST", &path("/home/premium"), Presented::Token(&reader))
        .await;
    assert_eq!(denial, Err(Denial::InsufficientScope(WRITE.to_owned())));
    let answer = denial.unwrap_err().http_answer("cognito-authorizer");
    assert_eq!(answer.status, 403);
    assert_eq!(
        answer.www_authenticate.as_deref(),
        Some(
            "Bearer realm=\"cognito-authorizer\", error=\"insufficient_scope\", \
             scope=\"premium_api/write\""
        )
    );
    let nothing = pools.a.token("client-a1", &["other/scope"]);
    assert_eq!(
        authorizer
            .authorize("GET", &path("/home/premium"), Presented::Token(&nothing))
            .await,
        Err(Denial::InsufficientScope(format!("{READ} {WRITE}")))
    );
}

#[tokio::test]
async fn all_scopes_need_every_one() {
    let pools = Pools::start();
    let authorizer = authorizer(&pools.policy("deny"));
    let reader = pools.b.token("any-client", &[READ]);
    assert_eq!(
        authorizer
            .authorize("DELETE", &path("/admin/users/7"), Presented::Token(&reader))
            .await,
        Err(Denial::InsufficientScope(format!("{READ} {WRITE}")))
    );
    let both = pools.b.token("any-client", &[WRITE, READ]);
    for raw in ["/admin", "/admin/users/7", "/admin/users/7/"] {
        let claims = verified(
            authorizer
                .authorize("DELETE", &path(raw), Presented::Token(&both))
                .await,
        );
        assert_eq!(claims.issuer, pools.b.iss);
    }
}

#[tokio::test]
async fn a_rule_without_scopes_takes_any_valid_token_and_passes_the_identity_on() {
    let pools = Pools::start();
    let authorizer = authorizer(&pools.policy("deny"));
    let token = pools.b.token("client-b", &[READ, WRITE]);
    let claims = verified(
        authorizer
            .authorize("PATCH", &path("/me"), Presented::Token(&token))
            .await,
    );
    let headers = identity_headers(&claims);
    assert_eq!(
        headers,
        [
            (IDENTITY_HEADERS[0], "client-b"),
            (IDENTITY_HEADERS[1], format!("{READ} {WRITE}").as_str()),
            (IDENTITY_HEADERS[2], pools.b.iss.as_str()),
        ]
    );
    let scopeless = pools.a.token("client-a1", &[]);
    verified(
        authorizer
            .authorize("GET", &path("/me"), Presented::Token(&scopeless))
            .await,
    );
}

#[tokio::test]
async fn unmatched_requests_follow_the_default() {
    let pools = Pools::start();
    let token = pools.a.token("client-a1", &[READ]);
    let deny = authorizer(&pools.policy("deny"));
    // A valid token learns "forbidden"; without one, or with a bad one, the usual 401.
    let denial = deny
        .authorize("GET", &path("/elsewhere"), Presented::Token(&token))
        .await;
    assert_eq!(denial, Err(Denial::NoRule));
    assert_eq!(denial.unwrap_err().http_answer("r").status, 403);
    assert_eq!(
        deny.authorize("GET", &path("/elsewhere"), Presented::Nothing)
            .await,
        Err(Denial::MissingToken)
    );
    assert_eq!(
        deny.authorize("GET", &path("/elsewhere"), Presented::Garbled)
            .await,
        Err(Denial::Rejected(Rejection::Malformed))
    );
    // A method no rule names for the path falls through to the default too.
    assert_eq!(
        deny.authorize("DELETE", &path("/home/premium"), Presented::Token(&token))
            .await,
        Err(Denial::NoRule)
    );

    let authenticated = authorizer(&pools.policy("authenticated"));
    let claims = verified(
        authenticated
            .authorize("GET", &path("/elsewhere"), Presented::Token(&token))
            .await,
    );
    assert_eq!(claims.client_id, "client-a1");
    assert_eq!(
        authenticated
            .authorize("GET", &path("/elsewhere"), Presented::Nothing)
            .await,
        Err(Denial::MissingToken)
    );
}

#[tokio::test]
async fn each_pool_has_its_own_client_allow_list() {
    let pools = Pools::start();
    let authorizer = authorizer(&pools.policy("deny"));
    let stranger_of_a = pools.a.token("client-x", &[READ]);
    let denial = authorizer
        .authorize(
            "GET",
            &path("/home/premium"),
            Presented::Token(&stranger_of_a),
        )
        .await;
    assert_eq!(denial, Err(Denial::Rejected(Rejection::ClientNotAllowed)));
    assert_eq!(denial.unwrap_err().reason(), "client_not_allowed");
    // Pool B names no clients: the same client id is welcome there.
    let stranger_of_b = pools.b.token("client-x", &[READ]);
    verified(
        authorizer
            .authorize(
                "GET",
                &path("/home/premium"),
                Presented::Token(&stranger_of_b),
            )
            .await,
    );
}

#[tokio::test]
async fn tokens_are_checked_against_their_own_issuers_keys() {
    let pools = Pools::start();
    let authorizer = authorizer(&pools.policy("deny"));
    let judge = |token: String| {
        let authorizer = &authorizer;
        async move {
            authorizer
                .authorize("GET", &path("/me"), Presented::Token(&token))
                .await
        }
    };
    // Pool A's claims under pool B's key: A's JWKS does not hold that kid.
    let crossed = pools.a.claims("client-a1", &[READ]).sign(&pools.b.key);
    assert_eq!(
        judge(crossed).await,
        Err(Denial::Rejected(Rejection::UnknownKid))
    );
    let stranger =
        TokenIssuer::start("https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Other");
    assert_eq!(
        judge(stranger.token("client-a1", &[READ])).await,
        Err(Denial::Rejected(Rejection::WrongIssuer))
    );
    let mut expired = pools.a.claims("client-a1", &[READ]);
    expired.exp = expired.iat - 3600;
    let denial = judge(expired.sign(&pools.a.key)).await;
    assert_eq!(denial, Err(Denial::Rejected(Rejection::Expired)));
    let answer = denial.unwrap_err().http_answer("cognito-authorizer");
    assert_eq!(answer.status, 401);
    assert!(
        answer
            .www_authenticate
            .unwrap()
            .contains("error=\"invalid_token\", error_description=\"The access token expired\"")
    );
    // One signature character changed (in the middle: the last one carries padding bits).
    let token = pools.a.token("client-a1", &[READ]);
    let at = token.rfind('.').unwrap() + 20;
    let swapped = if &token[at..=at] == "A" { "B" } else { "A" };
    let tampered = format!("{}{swapped}{}", &token[..at], &token[at + 1..]);
    let denial = judge(tampered).await.unwrap_err();
    assert_eq!(denial, Denial::Rejected(Rejection::BadSignature));
    assert_eq!(denial.http_answer("r").status, 401);
}

#[tokio::test]
async fn an_issuer_whose_keys_cannot_be_loaded_is_unavailable_not_unauthorized() {
    let pools = Pools::start();
    let authorizer = authorizer(&pools.policy("deny"));
    let token = pools.c.token("client-c", &[READ]);
    let denial = authorizer
        .authorize("GET", &path("/home/premium"), Presented::Token(&token))
        .await;
    assert_eq!(denial, Err(Denial::Rejected(Rejection::KeysUnavailable)));
    let answer = denial.unwrap_err().http_answer("cognito-authorizer");
    assert_eq!((answer.status, answer.retry_after), (503, Some(1)));
    // The other pools are not held up by it.
    verified(
        authorizer
            .authorize(
                "GET",
                &path("/home/premium"),
                Presented::Token(&pools.b.token("client-b", &[READ])),
            )
            .await,
    );
    // Once its JWKS answers, the same token is judged.
    pools.c.jwks.set_failing(false);
    test_support::eventually("pool C's keys", Duration::from_secs(20), || {
        let authorizer = &authorizer;
        let token = &token;
        async move {
            let result = authorizer
                .authorize("GET", &path("/home/premium"), Presented::Token(token))
                .await;
            matches!(result, Ok(Grant::Verified(_))).then_some(())
        }
    })
    .await;
}

#[tokio::test]
async fn an_unusable_path_is_a_bad_request() {
    for raw in [
        "/home/%2e%2e/%2e%2e/admin",
        "/admin%2Fusers",
        "/a\\b",
        "/a%zz",
    ] {
        let denial = Denial::InvalidPath(RequestPath::normalize(raw).unwrap_err());
        assert_eq!(denial.reason(), "invalid_path");
        let answer = denial.http_answer("cognito-authorizer");
        assert_eq!(
            (answer.status, answer.body),
            (400, r#"{"message":"Bad Request"}"#),
            "{raw}"
        );
    }
}

#[tokio::test]
async fn a_user_pool_entry_takes_both_issuer_forms_under_its_allow_list() {
    const ORIGINAL: &str = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Forms";
    const UPDATED: &str = "https://issuer-cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Forms";
    let pool = TokenIssuer::start(ORIGINAL);
    let yaml = format!(
        "issuers:
  - userPoolId: eu-west-1_Forms
    region: eu-west-1
    clientIds: [reader]
rules:
  - path: /home/premium
    scopes: [{READ}]
"
    );
    let policy = Policy::parse("policy.yaml", &yaml).unwrap();
    // The policy derives both issuers, each with the JWKS under it, as Cognito publishes them.
    let derived = policy.issuers()[0].issuer_jwks();
    let expected: Vec<IssuerJwks> = [ORIGINAL, UPDATED]
        .map(|iss| IssuerJwks {
            issuer: iss.to_owned(),
            jwks_url: format!("{iss}/.well-known/jwks.json"),
        })
        .into();
    assert_eq!(derived, expected);
    // Their hosts cannot run here: each issuer's keys come from the local server instead.
    let local: Vec<IssuerJwks> = derived
        .into_iter()
        .map(|issuer| IssuerJwks {
            jwks_url: pool.jwks.url.clone(),
            ..issuer
        })
        .collect();
    let trusted = TrustedIssuers::new(vec![TrustedPool::with_caches(
        &local,
        policy.issuers()[0].client_ids.clone(),
        &reqwest::Client::new(),
        &JwksSettings::default(),
    )])
    .unwrap();
    let authorizer = Authorizer::new(
        Arc::new(policy),
        Arc::new(Verifier::new(VerifierConfig::default(), trusted)),
    );
    for iss in [ORIGINAL, UPDATED] {
        let mut claims = pool.claims("reader", &[READ]);
        claims.iss = iss.to_owned();
        let token = claims.sign(&pool.key);
        let granted = verified(
            authorizer
                .authorize("GET", &path("/home/premium"), Presented::Token(&token))
                .await,
        );
        assert_eq!(granted.issuer, iss);
        claims.client_id = "stranger".to_owned();
        let token = claims.sign(&pool.key);
        assert_eq!(
            authorizer
                .authorize("GET", &path("/home/premium"), Presented::Token(&token))
                .await,
            Err(Denial::Rejected(Rejection::ClientNotAllowed)),
            "{iss}"
        );
    }
}
