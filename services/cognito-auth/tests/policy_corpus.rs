//! The policy engine on a corpus of awkward requests: overlapping rules, trailing and repeated
//! slashes, dot segments plain and percent-encoded, encoded slashes, method case, HEAD versus
//! GET, query strings, very long paths. Each row is judged end to end (path normalisation, the
//! policy, real tokens verified against a JWKS served over HTTP) for four callers and must get
//! the status written down for each; none may panic or get a 5xx.

mod token_issuers;

use cognito_auth::authorization::{Authorizer, Denial};
use cognito_auth::bearer::Presented;
use cognito_auth::policy::{Policy, RequestPath, Requirement};
use token_issuers::{TokenIssuer, authorizer};

const READ: &str = "premium_api/read";
const WRITE: &str = "premium_api/write";

/// Overlapping rules on purpose: a public page inside a protected tree (listed first, as first
/// match wins), one path with per-method scopes, a wildcard after the exact rules.
fn policy(issuer: &TokenIssuer) -> String {
    format!(
        "issuers:\n{}rules:
  - path: /public/**
    public: true
  - path: /home/premium/preview
    methods: [GET]
    public: true
  - path: /home/premium
    methods: [GET]
    scopes: [{READ}]
  - path: /home/premium/**
    methods: [GET]
    scopes: [{READ}]
  - path: /home/premium
    methods: [POST]
    scopes: [{WRITE}]
  - path: /home/*
  - path: /admin/**
    allScopes: [{READ}, {WRITE}]
",
        issuer.policy_entry(&[])
    )
}

/// The callers: no token, then tokens granting read, write, and both.
struct Callers {
    tokens: [Option<String>; 4],
}

impl Callers {
    fn new(issuer: &TokenIssuer) -> Self {
        Self {
            tokens: [
                None,
                Some(issuer.token("reader", &[READ])),
                Some(issuer.token("writer", &[WRITE])),
                Some(issuer.token("admin", &[READ, WRITE])),
            ],
        }
    }

    /// The status each caller gets for `method` on `target`: the caller of the engine splits
    /// the query off (as servers do), the path is normalised (400 when it cannot be), then the
    /// authorizer decides (200 when it allows).
    async fn statuses(&self, authorizer: &Authorizer, method: &str, target: &str) -> [u16; 4] {
        let raw_path = target.split_once('?').map_or(target, |(path, _)| path);
        let path = match RequestPath::normalize(raw_path) {
            Ok(path) => path,
            Err(error) => return [Denial::InvalidPath(error).http_answer("corpus").status; 4],
        };
        assert!(!path.as_str().contains('?'), "{target}: ? reached matching");
        let mut statuses = [0; 4];
        for (status, token) in statuses.iter_mut().zip(&self.tokens) {
            let credentials = token
                .as_deref()
                .map_or(Presented::Nothing, Presented::Token);
            *status = match authorizer.authorize(method, &path, credentials).await {
                Ok(_) => 200,
                Err(denial) => denial.http_answer("corpus").status,
            };
        }
        statuses
    }
}

/// A path of exactly `len` bytes under `prefix`.
fn long_path(prefix: &str, len: usize) -> String {
    let mut path = prefix.to_owned();
    while path.len() < len {
        path.push_str("/abcdefg");
    }
    path.truncate(len);
    path
}

// Expected statuses, in caller order: [anonymous, reader, writer, admin].
const OK: [u16; 4] = [200; 4];
const BAD: [u16; 4] = [400; 4];
/// Needs read: the writer has a valid token without it.
const READERS: [u16; 4] = [401, 200, 403, 200];
/// Needs write.
const WRITERS: [u16; 4] = [401, 403, 200, 200];
/// Needs both.
const ADMINS: [u16; 4] = [401, 403, 403, 200];
/// Any valid token.
const TOKEN: [u16; 4] = [401, 200, 200, 200];
/// No rule: default deny (401 without a token, 403 with one).
const NO_RULE: [u16; 4] = [401, 403, 403, 403];

#[rustfmt::skip]
const ROWS: &[(&str, &str, [u16; 4])] = &[
    // The plain routes.
    ("GET", "/home/premium", READERS),
    ("POST", "/home/premium", WRITERS),
    ("GET", "/admin", ADMINS),
    ("DELETE", "/admin/users/7", ADMINS),
    ("GET", "/public/index.html", OK),
    ("GET", "/", NO_RULE),
    // Overlapping rules: the narrower public page inside the protected tree comes first.
    ("GET", "/home/premium/preview", OK),
    ("POST", "/home/premium/preview", NO_RULE),
    ("GET", "/home/premium/preview/more", READERS),
    ("GET", "/home/premium/a/b/c", READERS),
    ("PUT", "/home/premium", TOKEN),
    ("GET", "/home/other", TOKEN),
    ("GET", "/home", NO_RULE),
    ("GET", "/home/a/b", NO_RULE),
    // Trailing, repeated slashes and dot segments: the same resource, the same rule.
    ("GET", "/home/premium/", READERS),
    ("GET", "//home/premium", READERS),
    ("GET", "/home//premium//", READERS),
    ("GET", "/home/./premium", READERS),
    ("GET", "/public/../home/premium", READERS),
    ("GET", "/public/../admin", ADMINS),
    ("GET", "/home/%2e%2e/admin", ADMINS),
    ("GET", "/home/%2E%2E/admin/", ADMINS),
    ("GET", "/home/.%2e/admin", ADMINS),
    ("GET", "/public/%2e%2e/admin", ADMINS),
    ("POST", "/home/premium/preview/..", WRITERS),
    ("GET", "/%68ome/premium", READERS),
    ("GET", "/home/premiu%6D", READERS),
    // Paths are case-sensitive; other spellings are other resources.
    ("GET", "/HOME/premium", NO_RULE),
    ("GET", "/home/premium%20", TOKEN),
    ("GET", "/home/premium.json", TOKEN),
    ("GET", "/admin.json", NO_RULE),
    // Encoded separators, climbing above the root, bad escapes, control characters: 400.
    ("GET", "/home%2Fpremium", BAD),
    ("GET", "/home%2fpremium", BAD),
    ("GET", "/public/..%2Fadmin", BAD),
    ("GET", "/public%2F..%2Fadmin", BAD),
    ("GET", "/home/premium%2F", BAD),
    ("GET", "/public\\..\\admin", BAD),
    ("GET", "/public/%5C../admin", BAD),
    ("GET", "/../admin", BAD),
    ("GET", "/public/../../admin", BAD),
    ("GET", "/%2e%2e/admin", BAD),
    // Dot segments with `;parameters`: servlet containers strip the parameters and climb.
    ("GET", "/public/..;/admin", BAD),
    ("GET", "/public/%2e%2e;x=1/admin", BAD),
    ("GET", "/public/.;/x", BAD),
    ("GET", "/public/...;x/y", OK),
    ("GET", "/home/premium;v=2", TOKEN),
    ("GET", "/home/premium%", BAD),
    ("GET", "/home/premium%zz", BAD),
    ("GET", "/home/premium%00", BAD),
    ("GET", "/home/premium\r\nx: y", BAD),
    ("GET", "*", BAD),
    ("OPTIONS", "*", BAD),
    ("GET", "", BAD),
    ("GET", "http://evil.example/admin", BAD),
    // Method case; HEAD goes with GET, and only with GET.
    ("get", "/home/premium", READERS),
    ("Get", "/home/premium", READERS),
    ("post", "/home/premium", WRITERS),
    ("HEAD", "/home/premium", READERS),
    ("head", "/home/premium/preview", OK),
    ("HEAD", "/home/premium/x", READERS),
    ("OPTIONS", "/home/premium", TOKEN),
    ("PATCH", "/home/premium/x", NO_RULE),
    // Query strings never take part in matching.
    ("GET", "/home/premium?x=1", READERS),
    ("GET", "/home/premium?/../../admin", READERS),
    ("GET", "/home/premium?%2F..%2Fpublic", READERS),
    ("GET", "/public/x?path=/admin", OK),
    ("GET", "/admin?public=true", ADMINS),
    ("GET", "/public/../admin?x=/public/", ADMINS),
    ("GET", "/home/premium/?", READERS),
    ("GET", "?/public", BAD),
];

#[tokio::test]
async fn every_row_gets_its_status() {
    let issuer = TokenIssuer::start("https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Corpus");
    let authorizer = authorizer(&policy(&issuer));
    let callers = Callers::new(&issuer);
    let mut wrong = Vec::new();
    for &(method, target, expected) in ROWS {
        let got = callers.statuses(&authorizer, method, target).await;
        assert!(
            got.iter().all(|&status| status < 500),
            "{method} {target:?}: {got:?}"
        );
        if got != expected {
            wrong.push(format!(
                "{method} {target:?}: got {got:?}, expected {expected:?}"
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "rows with the wrong verdict:\n{}",
        wrong.join("\n")
    );
}

#[tokio::test]
async fn very_long_paths_are_judged_up_to_the_limit_and_refused_beyond() {
    let issuer = TokenIssuer::start("https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Long");
    let authorizer = authorizer(&policy(&issuer));
    let callers = Callers::new(&issuer);
    let longest = long_path("/home/premium", RequestPath::MAX_LEN);
    assert_eq!(
        callers.statuses(&authorizer, "GET", &longest).await,
        READERS
    );
    let public = long_path("/public", RequestPath::MAX_LEN);
    assert_eq!(callers.statuses(&authorizer, "GET", &public).await, OK);
    // Dot segments and slashes count before normalisation: a path cannot shrink under the limit.
    let dotted = format!("{}/..", long_path("/admin", RequestPath::MAX_LEN - 3));
    assert_eq!(dotted.len(), RequestPath::MAX_LEN);
    assert_eq!(callers.statuses(&authorizer, "GET", &dotted).await, ADMINS);
    for too_long in [
        long_path("/public", RequestPath::MAX_LEN + 1),
        format!("/public{}", "/".repeat(RequestPath::MAX_LEN)),
        format!("/public/{}", "%2e%2e/x/".repeat(2000)),
    ] {
        assert_eq!(callers.statuses(&authorizer, "GET", &too_long).await, BAD);
    }
}

#[test]
fn a_query_left_on_the_path_never_matches_as_a_separator() {
    // Callers split the query off; one that forgets still cannot smuggle a separator in: `?`
    // is encoded like any other reserved character and stays inside its segment.
    for (raw, normal) in [
        ("/home/premium?x=1", "/home/premium%3Fx=1"),
        ("/public?/../admin", "/admin"),
        ("/a?b/c", "/a%3Fb/c"),
    ] {
        let path = RequestPath::normalize(raw).unwrap();
        assert_eq!(path.as_str(), normal, "{raw}");
        assert!(!path.as_str().contains('?'));
    }
}

#[test]
fn the_requirement_alone_never_depends_on_the_token() {
    // The same corpus at the policy level: what each request needs before any token is read.
    let yaml = "issuers:\n  - userPoolId: eu-west-1_Corpus\nrules:
  - path: /public/**
    public: true
  - path: /home/premium
    methods: [GET]
    scopes: [premium_api/read]
default: authenticated
";
    let policy = Policy::parse("corpus.yaml", yaml).unwrap();
    let read = [READ.to_owned()];
    for (method, raw, expected) in [
        ("GET", "/public", Requirement::Public),
        ("HEAD", "/home/premium/", Requirement::AnyScope(&read)),
        ("gEt", "//home/premium", Requirement::AnyScope(&read)),
        ("POST", "/home/premium", Requirement::Authenticated),
        (
            "GET",
            "/public/../home/premium",
            Requirement::AnyScope(&read),
        ),
        ("GET", "/home/premium/x/..", Requirement::AnyScope(&read)),
        ("GET", "/elsewhere", Requirement::Authenticated),
    ] {
        let path = RequestPath::normalize(raw).unwrap();
        assert_eq!(
            policy.requirement(method, &path),
            expected,
            "{method} {raw}"
        );
    }
}

#[test]
fn the_documented_example_is_a_valid_policy() {
    let page =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/policy.md"))
            .expect("docs/policy.md is readable");
    let yaml = page
        .split("```yaml\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("docs/policy.md opens with a yaml example");
    let policy = Policy::parse("docs/policy.md", yaml).unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(policy.issuers().len(), 2);
    assert_eq!(policy.rules().len(), 5);
    let admin = RequestPath::normalize("/admin").unwrap();
    let both = [READ.to_owned(), WRITE.to_owned()];
    assert_eq!(
        policy.requirement("GET", &admin),
        Requirement::AllScopes(&both)
    );
    let me = RequestPath::normalize("/me/").unwrap();
    assert_eq!(
        policy.requirement("DELETE", &me),
        Requirement::Authenticated
    );
    let other = RequestPath::normalize("/other").unwrap();
    assert_eq!(policy.requirement("GET", &other), Requirement::Deny);
}
