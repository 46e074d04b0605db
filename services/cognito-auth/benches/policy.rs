//! The cost of judging a request's route before any token is looked at: normalising its path
//! and finding the first matching rule of a policy, plus parsing a policy file.
//!
//! `cargo bench -p cognito-auth --bench policy`

// criterion_group! generates an undocumented pub fn.
#![allow(missing_docs)]

use std::fmt::Write;
use std::hint::black_box;

use cognito_auth::policy::{Policy, RequestPath, Requirement};
use criterion::{Criterion, criterion_group, criterion_main};

/// A policy of `services` APIs, each with a read rule, a write rule and a public health path,
/// then a catch-all: 3 * `services` + 1 rules.
fn policy_yaml(services: usize) -> String {
    let mut yaml = String::from(
        "issuers:\n  - userPoolId: us-east-1_Bench\n    clientIds: [1example23456789]\nrules:\n",
    );
    for i in 0..services {
        write!(
            yaml,
            "  - path: /api/v1/service{i}/items/*/**\n    methods: [GET]\n    scopes: [s{i}/read]\n\
             \x20 - path: /api/v1/service{i}/**\n    methods: [POST, PUT, DELETE]\n    allScopes: [s{i}/read, s{i}/write]\n\
             \x20 - path: /api/v1/service{i}/health\n    public: true\n"
        )
        .unwrap();
    }
    yaml.push_str("  - path: /api/**\n    scopes: [admin/all]\ndefault: deny\n");
    yaml
}

fn bench(c: &mut Criterion) {
    let yaml = policy_yaml(16);
    let policy = Policy::parse("bench.yaml", &yaml).unwrap();
    assert_eq!(policy.rules().len(), 49);

    c.bench_function("normalize: plain 5-segment path", |b| {
        b.iter(|| RequestPath::normalize(black_box("/api/v1/service15/items/42")).unwrap())
    });
    c.bench_function("normalize: dots, slashes and encodings", |b| {
        b.iter(|| {
            RequestPath::normalize(black_box("//api/./v1/x/%2e%2e/service15/items/%34%32/"))
                .unwrap()
        })
    });

    let last_service = RequestPath::normalize("/api/v1/service15/items/42/detail").unwrap();
    c.bench_function("requirement: 49 rules, match at rule 46", |b| {
        b.iter(|| {
            let requirement = policy.requirement(black_box("GET"), black_box(&last_service));
            assert!(matches!(requirement, Requirement::AnyScope(_)));
        })
    });
    let unmatched = RequestPath::normalize("/other/path").unwrap();
    c.bench_function("requirement: 49 rules, none matches", |b| {
        b.iter(|| {
            let requirement = policy.requirement(black_box("GET"), black_box(&unmatched));
            assert_eq!(requirement, Requirement::Deny);
        })
    });

    c.bench_function("parse: 49-rule policy file", |b| {
        b.iter(|| Policy::parse("bench.yaml", black_box(&yaml)).unwrap())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
