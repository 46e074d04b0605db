//! The route policy's two readers of untrusted input: request path normalisation
//! (`RequestPath::normalize`, fed every request's path) and the policy file parser
//! (`Policy::parse`, fed a ConfigMap anyone with write access to it can change).
//!
//! Input: one mode byte, then the rest.
//! - `p`: the rest is a request path (lossy UTF-8, as a server hands it over).
//! - `y`: the rest is policy YAML.
//! - anything else: the whole input is tried as both.

#![no_main]

use cognito_auth::policy::{
    Access, DefaultAction, IssuerTrust, Policy, PolicyIssuer, RequestPath, Requirement, Rule,
};
use cognito_auth::trusted_issuers::IssuerJwks;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (mode, rest) = data.split_first().map_or((0, data), |(m, r)| (*m, r));
    let text = String::from_utf8_lossy(rest);
    match mode {
        b'p' => path(&text),
        b'y' => policy(&text),
        _ => {
            let whole = String::from_utf8_lossy(data);
            path(&whole);
            policy(&whole);
        }
    }
});

fn path(raw: &str) {
    let Ok(normal) = RequestPath::normalize(raw) else {
        return;
    };
    let text = normal.as_str();
    // The normal form (RFC 3986 sections 6.2.2 and 5.2.4, plus merged slashes).
    assert!(text.starts_with('/'), "{raw:?} -> {text:?}");
    assert!(
        text.len() <= RequestPath::MAX_LEN,
        "{raw:?} -> {} bytes",
        text.len()
    );
    assert!(text.is_ascii(), "{raw:?} -> {text:?}");
    assert!(text == "/" || !text.ends_with('/'), "{raw:?} -> {text:?}");
    for bad in ["//", "?", "#", " ", "\\"] {
        assert!(!text.contains(bad), "{raw:?} -> {text:?} holds {bad:?}");
    }
    if text != "/" {
        for segment in text[1..].split('/') {
            assert!(
                !matches!(segment, "" | "." | ".."),
                "{raw:?} -> {text:?}: segment {segment:?}"
            );
        }
    }
    let bytes = text.as_bytes();
    for (i, &byte) in bytes.iter().enumerate() {
        if byte == b'%' {
            let hex = &bytes[i + 1..i + 3];
            assert!(
                hex.iter()
                    .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(b)),
                "{raw:?} -> {text:?}: escape at {i} not upper-case hex"
            );
            let value = u8::from_str_radix(std::str::from_utf8(hex).unwrap(), 16).unwrap();
            assert!(
                !(value.is_ascii_alphanumeric() || b"-._~/\\".contains(&value)),
                "{raw:?} -> {text:?}: %{value:02X} should be decoded or refused"
            );
        }
    }
    // Idempotent: the normal form is its own normal form.
    assert_eq!(
        RequestPath::normalize(text).as_ref(),
        Ok(&normal),
        "{raw:?}"
    );
    // Slashes are only separators: doubling the leading one or adding a trailing one changes
    // nothing.
    for variant in [format!("/{raw}"), format!("{raw}/")] {
        if variant.len() <= RequestPath::MAX_LEN {
            assert_eq!(
                RequestPath::normalize(&variant).as_ref(),
                Ok(&normal),
                "{variant:?}"
            );
        }
    }
    // Every normal path without `*` is a pattern matching exactly itself.
    if !text.contains('*') {
        let read = vec!["fuzz/read".to_owned()];
        let policy = Policy::new(
            "fuzz",
            vec![issuer()],
            vec![Rule {
                path: text.to_owned(),
                methods: Some(vec!["GET".to_owned()]),
                access: Access::AnyScope(read.clone()),
                line: 0,
            }],
            DefaultAction::Deny,
        )
        .unwrap_or_else(|error| panic!("{text:?} as a pattern: {error}"));
        assert_eq!(
            policy.requirement("head", &normal),
            Requirement::AnyScope(&read)
        );
        assert_eq!(policy.requirement("POST", &normal), Requirement::Deny);
        let below = RequestPath::normalize(&format!("{}/x", text.trim_end_matches('/')));
        if let Ok(below) = below {
            assert_eq!(policy.requirement("GET", &below), Requirement::Deny);
        }
    }
}

fn issuer() -> PolicyIssuer {
    PolicyIssuer {
        trust: IssuerTrust::Issuer(IssuerJwks::at_default_place("https://issuer.example/pool")),
        client_ids: Vec::new(),
    }
}

fn policy(yaml: &str) {
    let parsed = match Policy::parse("fuzz.yaml", yaml) {
        Ok(parsed) => parsed,
        Err(error) => {
            // Every error names the file, and a place inside it when it has one.
            assert!(error.to_string().starts_with("fuzz.yaml:"), "{error}");
            assert!(!error.reason.trim().is_empty(), "{error:?}");
            // YAML breaks lines at `\n`, `\r\n` and a lone `\r` (YAML 1.2 section 5.4).
            let lines = yaml.replace("\r\n", "\n").matches(['\n', '\r']).count() + 1;
            assert!(
                error.line <= lines,
                "{error} is past the end of {lines} lines"
            );
            assert_eq!(error.line == 0, error.column == 0, "{error:?}");
            return;
        }
    };
    // A parsed policy passes the checks of one built in code, unchanged.
    let rebuilt = Policy::new(
        "fuzz.yaml",
        parsed.issuers().to_vec(),
        parsed.rules().to_vec(),
        parsed.default_action(),
    )
    .unwrap_or_else(|error| panic!("parsed, yet refused when rebuilt: {error}"));
    assert_eq!(rebuilt, parsed);
    assert!(!parsed.issuers().is_empty());
    for rule in parsed.rules() {
        assert_eq!(
            RequestPath::normalize(&rule.path).map(|p| p.as_str().to_owned()),
            Ok(rule.path.clone()),
            "rule paths are in normal form"
        );
        if let Some(methods) = &rule.methods {
            assert!(!methods.is_empty());
            assert!(methods.iter().all(|m| *m == m.to_ascii_uppercase()));
        }
        if let Access::AnyScope(scopes) | Access::AllScopes(scopes) = &rule.access {
            assert!(!scopes.is_empty());
        }
    }
    // Each rule's pattern matches its own path (a star read as a segment `x`) under the rule's
    // first method, and HEAD wherever it matches GET.
    for rule in parsed.rules() {
        let concrete = rule.path.replace("**", "x").replace('*', "x");
        let path =
            RequestPath::normalize(&concrete).expect("a pattern with stars replaced is a path");
        let method = rule
            .methods
            .as_ref()
            .map_or("GET", |methods| methods[0].as_str());
        let alone = Policy::new(
            "fuzz.yaml",
            parsed.issuers().to_vec(),
            vec![Rule {
                access: Access::Public,
                ..rule.clone()
            }],
            DefaultAction::Deny,
        )
        .expect("a rule of a valid policy is valid alone");
        assert_eq!(
            alone.requirement(method, &path),
            Requirement::Public,
            "{} {concrete}",
            method
        );
        assert_eq!(
            alone.requirement("HEAD", &path) == Requirement::Public,
            rule.allows_method("GET") || rule.allows_method("HEAD"),
        );
        let _ = parsed.requirement(method, &path);
    }
}
