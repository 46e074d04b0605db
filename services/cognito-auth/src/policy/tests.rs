use super::*;

const CONTRACT_EXAMPLE: &str = "\
issuers:
  - userPoolId: us-east-1_AbCdEf123
    region: us-east-1
    clientIds: [1example23456789]
  - issuer: https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Other
    jwksUrl: https://keys.example.com/jwks.json
rules:
  - path: /home/premium
    methods: [GET, HEAD]
    scopes: [premium_api/read]
  - path: /admin/**
    allScopes: [premium_api/read, premium_api/write]
  - path: /public/**
    public: true
default: deny
";

fn path(raw: &str) -> RequestPath {
    RequestPath::normalize(raw).unwrap()
}

fn error(yaml: &str) -> String {
    Policy::parse("policy.yaml", yaml).unwrap_err().to_string()
}

/// A policy trusting one pool with `rules` (YAML lines, indented as list items).
fn with_rules(rules: &str) -> String {
    format!("issuers:\n  - userPoolId: us-east-1_A\nrules:\n{rules}")
}

#[test]
fn the_contract_example_parses_into_its_parts() {
    let policy = Policy::parse("policy.yaml", CONTRACT_EXAMPLE).unwrap();
    let pool = UserPool::in_region("us-east-1", "us-east-1_AbCdEf123").unwrap();
    assert_eq!(
        policy.issuers(),
        [
            PolicyIssuer {
                trust: IssuerTrust::UserPool(pool),
                client_ids: vec!["1example23456789".into()],
            },
            PolicyIssuer {
                trust: IssuerTrust::Issuer(IssuerJwks {
                    issuer: "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Other".into(),
                    jwks_url: "https://keys.example.com/jwks.json".into(),
                }),
                client_ids: vec![],
            },
        ]
    );
    let rules = policy.rules();
    assert_eq!(rules.len(), 3);
    assert_eq!(
        rules[0].methods.as_deref(),
        Some(&["GET".into(), "HEAD".into()][..])
    );
    assert_eq!(rules[0].line, 8);
    assert_eq!(
        rules[1].access,
        Access::AllScopes(vec!["premium_api/read".into(), "premium_api/write".into()])
    );
    assert_eq!(rules[2].access, Access::Public);
    assert_eq!(policy.default_action(), DefaultAction::Deny);
    assert_eq!(policy.issuers()[0].issuer_jwks().len(), 2);
}

#[test]
fn the_first_matching_rule_decides_and_the_default_the_rest() {
    let policy = Policy::parse("policy.yaml", CONTRACT_EXAMPLE).unwrap();
    let read = ["premium_api/read".to_owned()];
    assert_eq!(
        policy.requirement("GET", &path("/home/premium")),
        Requirement::AnyScope(&read)
    );
    assert_eq!(
        policy.requirement("get", &path("/home/premium/")),
        Requirement::AnyScope(&read)
    );
    assert_eq!(
        policy.requirement("POST", &path("/home/premium")),
        Requirement::Deny
    );
    assert!(matches!(
        policy.requirement("DELETE", &path("/admin")),
        Requirement::AllScopes(scopes) if scopes.len() == 2
    ));
    assert_eq!(
        policy.requirement("POST", &path("/public/x/y")),
        Requirement::Public
    );
    assert_eq!(policy.requirement("GET", &path("/")), Requirement::Deny);

    let open = Policy::parse(
        "p",
        &format!(
            "{}default: authenticated\n",
            with_rules("  - path: /a\n    public: true\n")
        ),
    )
    .unwrap();
    assert_eq!(
        open.requirement("GET", &path("/b")),
        Requirement::Authenticated
    );
    assert_eq!(open.requirement("GET", &path("/a")), Requirement::Public);
}

#[test]
fn a_rule_with_neither_scopes_nor_public_needs_any_valid_token() {
    let policy = Policy::parse("p", &with_rules("  - path: /me\n    public: false\n")).unwrap();
    assert_eq!(
        policy.requirement("GET", &path("/me")),
        Requirement::Authenticated
    );
}

#[test]
fn file_errors_name_file_line_column_and_what_is_wrong() {
    for (yaml, expected) in [
        (
            with_rules("  - path: /a\n    scope: [x/read]\n"),
            "policy.yaml:5:5: unknown field `scope`",
        ),
        ("issuers: [\n".to_owned(), "policy.yaml:1:10: "),
        (
            with_rules("  - path: /a\n    public: true\n    scopes: [x/read]\n"),
            "policy.yaml:5:13: a public rule needs no token",
        ),
        (
            with_rules("  - path: /a\n    scopes: [x/read]\n    allScopes: [x/write]\n"),
            "policy.yaml:6:16: scopes (any one of) and allScopes (all of) cannot go together",
        ),
        (
            with_rules("  - path: /a\n    scopes: []\n"),
            "policy.yaml:5:13: scopes: an empty list grants nothing",
        ),
        (
            with_rules("  - path: /a\n    allScopes: [x/read, \" \"]\n"),
            "policy.yaml:5:25: allScopes: \" \" is not a scope",
        ),
        (
            with_rules("  - path: /a\n    methods: [GET, \"PO ST\"]\n"),
            "policy.yaml:5:20: methods: \"PO ST\" is not an HTTP method",
        ),
        (
            with_rules("  - path: /a/\n"),
            "policy.yaml:4:11: path \"/a/\" is not in normalised form (requests are matched as \"/a\"",
        ),
        (
            with_rules("  - path: /a*b\n"),
            "policy.yaml:4:11: path \"/a*b\": \"*\" and \"**\" must be whole segments",
        ),
        (
            with_rules("  - path: /**/a\n"),
            "policy.yaml:4:11: path \"/**/a\": \"**\" may only be the last segment",
        ),
        (
            with_rules("  - path: /a/%2e%2e/b\n"),
            "policy.yaml:4:11: path \"/a/%2e%2e/b\" is not in normalised form",
        ),
        (
            with_rules("  - path: /a/**\n  - path: /a/b\n    methods: [POST]\n"),
            "policy.yaml:5:11: rules[1] (line 5: POST /a/b) is unreachable: rules[0] (line 4: \
             any method /a/**) matches every request it would",
        ),
        (
            "issuers:\n  - userPoolId: us-east-1_A\n    issuer: https://x.example\n".to_owned(),
            "policy.yaml:3:13: an issuer entry names userPoolId or issuer, not both",
        ),
        (
            "issuers:\n  - clientIds: [a]\n".to_owned(),
            "policy.yaml:2:5: an issuer entry needs userPoolId or issuer",
        ),
        (
            "issuers:\n  - userPoolId: us-east-1_A\n    region: eu-west-1\n".to_owned(),
            "policy.yaml:3:13: userPoolId / region: user pool us-east-1_A is in us-east-1, not \
             eu-west-1",
        ),
        (
            "issuers:\n  - userPoolId: nopool\n".to_owned(),
            "policy.yaml:2:17: userPoolId: user pool id \"nopool\" is not of the form",
        ),
        (
            "issuers:\n  - userPoolId: us-east-1_A\n    jwksUrl: https://k.example/j\n".to_owned(),
            "policy.yaml:3:14: jwksUrl goes with issuer",
        ),
        (
            "issuers:\n  - issuer: ftp://x.example/p\n".to_owned(),
            "policy.yaml:2:13: issuer: \"ftp://x.example/p\" is not an http(s) URL",
        ),
        (
            "issuers:\n  - issuer: https://x.example\n    jwksUrl: keys.json\n".to_owned(),
            "policy.yaml:3:14: jwksUrl: \"keys.json\" is not an http(s) URL",
        ),
        (
            "issuers:\n  - issuer: https://x.example\n    region: us-east-1\n".to_owned(),
            "policy.yaml:3:13: region goes with userPoolId",
        ),
        (
            "issuers: []\n".to_owned(),
            "policy.yaml:1:10: issuers: at least one user pool or issuer must be trusted",
        ),
        (
            "rules: []\n".to_owned(),
            "policy.yaml:0:0: issuers: at least one",
        ),
        (
            "issuers:\n  - userPoolId: us-east-1_A\n  - issuer: \
             https://issuer-cognito-idp.us-east-1.amazonaws.com/us-east-1_A\n"
                .to_owned(),
            "policy.yaml:3:13: issuer https://issuer-cognito-idp.us-east-1.amazonaws.com/\
             us-east-1_A is already trusted by issuers[0]",
        ),
        (
            "issuers:\n  - userPoolId: us-east-1_A\n    clientIds: []\n".to_owned(),
            "policy.yaml:3:16: clientIds: an empty list would allow any client",
        ),
        (
            "issuers:\n  - userPoolId: us-east-1_A\n    clientIds: [a, \"\"]\n".to_owned(),
            "policy.yaml:3:20: clientIds: a client id must not be blank",
        ),
        (
            "issuers:\n  - userPoolId: us-east-1_A\ndefault: allow\n".to_owned(),
            "policy.yaml:3:10: default: \"allow\" is neither deny nor authenticated",
        ),
        (
            "issuers:\n  - userPoolId: us-east-1_A\nissuers: []\n".to_owned(),
            "policy.yaml:3:1: duplicate mapping key",
        ),
    ] {
        let error = error(&yaml);
        assert!(
            error.starts_with(expected),
            "{yaml}\n  gave {error}\n  not {expected}"
        );
    }
}

#[test]
fn unreachable_rules_are_found_through_methods_and_wildcards() {
    for (rules, unreachable) in [
        ("  - path: /a/*\n  - path: /a/b\n", true),
        ("  - path: /a/b\n  - path: /a/*\n", false),
        (
            "  - path: /a/**\n    methods: [GET]\n  - path: /a/x\n    methods: [HEAD]\n",
            true,
        ),
        (
            "  - path: /a/**\n    methods: [HEAD]\n  - path: /a/x\n    methods: [GET]\n",
            false,
        ),
        (
            "  - path: /a/**\n    methods: [GET]\n  - path: /a/x\n",
            false,
        ),
        (
            "  - path: /a/*\n    methods: [GET]\n  - path: /a/*\n    methods: [post]\n  - path: /a/b\n    methods: [GET, POST]\n",
            true,
        ),
        (
            "  - path: /**\n    public: true\n  - path: /x\n    scopes: [a/b]\n",
            true,
        ),
        ("  - path: /x/*\n  - path: /x/**\n", false),
    ] {
        let result = Policy::parse("p", &with_rules(rules));
        assert_eq!(
            result
                .as_ref()
                .is_err_and(|e| e.reason.contains("unreachable")),
            unreachable,
            "{rules}: {result:?}"
        );
    }
}

#[test]
fn policies_built_in_code_pass_the_same_checks() {
    let pool = || PolicyIssuer {
        trust: IssuerTrust::UserPool(UserPool::from_id("eu-west-1_P").unwrap()),
        client_ids: vec![],
    };
    let rule = |path: &str, methods: Option<&[&str]>, line| Rule {
        path: path.into(),
        methods: methods.map(|m| m.iter().map(|s| s.to_string()).collect()),
        access: Access::AnyScope(vec!["a/read".into()]),
        line,
    };
    let policy = Policy::new(
        "built-in",
        vec![pool()],
        vec![rule("/a", Some(&["get"]), 0)],
        DefaultAction::Deny,
    )
    .unwrap();
    assert_eq!(
        policy.rules()[0].methods.as_deref(),
        Some(&["GET".to_owned()][..])
    );
    assert_eq!(
        policy.requirement("HEAD", &path("/a")),
        Requirement::AnyScope(&["a/read".to_owned()])
    );

    let error = Policy::new(
        "built-in",
        vec![pool(), pool()],
        vec![],
        DefaultAction::Deny,
    )
    .unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("built-in:0:0: issuer https://cognito-idp"),
        "{error}"
    );
    let error = Policy::new(
        "built-in",
        vec![pool()],
        vec![rule("/a", None, 3), rule("/a", Some(&["PUT"]), 7)],
        DefaultAction::Deny,
    )
    .unwrap_err();
    assert_eq!((error.line, error.column), (7, 0));
    assert!(error.reason.contains("unreachable"), "{error}");
    let error = Policy::new(
        "built-in",
        vec![pool()],
        vec![rule("/a", Some(&[]), 2)],
        DefaultAction::Deny,
    )
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "built-in:2:0: methods: an empty list matches nothing; leave the key out for every method"
    );
    assert!(Policy::new("b", vec![], vec![], DefaultAction::Deny).is_err());
}

#[test]
fn an_unreadable_file_is_an_error_naming_it() {
    let error = Policy::load(Path::new("/nonexistent/policy.yaml")).unwrap_err();
    assert_eq!(
        (error.file.as_str(), error.line),
        ("/nonexistent/policy.yaml", 0)
    );
    assert!(
        error.reason.starts_with("cannot read the policy"),
        "{error}"
    );
}
