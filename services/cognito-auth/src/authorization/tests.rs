use super::*;

const REALM: &str = "premium-content";

#[test]
fn answers_follow_rfc_6750() {
    // RFC 6750 section 3: auth-params as quoted-strings, comma-separated; no error code when no
    // token came (section 3.1).
    let bearer = |params: &str| Some(format!("Bearer realm=\"premium-content\"{params}"));
    let invalid = |description: &str| {
        bearer(&format!(
            ", error=\"invalid_token\", error_description=\"{description}\""
        ))
    };
    let (unauthorized, forbidden) = (
        r#"{"message":"Unauthorized"}"#,
        r#"{"message":"Forbidden"}"#,
    );
    let scopes = "premium_api/read premium_api/write";
    for (denial, status, challenge, body) in [
        (Denial::MissingToken, 401, bearer(""), unauthorized),
        (
            Denial::Rejected(Rejection::BadSignature),
            401,
            invalid("The access token is invalid"),
            unauthorized,
        ),
        (
            Denial::Rejected(Rejection::Expired),
            401,
            invalid("The access token expired"),
            unauthorized,
        ),
        (
            Denial::InsufficientScope(scopes.into()),
            403,
            bearer(&format!(
                ", error=\"insufficient_scope\", scope=\"{scopes}\""
            )),
            forbidden,
        ),
        (
            Denial::Rejected(Rejection::KeysUnavailable),
            503,
            None,
            r#"{"message":"Service Unavailable"}"#,
        ),
    ] {
        let answer = denial.http_answer(REALM);
        assert_eq!(
            (answer.status, answer.www_authenticate, answer.body),
            (status, challenge, body),
            "{denial:?}"
        );
        // Only a refusal that is not the token's fault asks to come back later.
        let retry = (status == 503).then_some(1);
        assert_eq!(answer.retry_after, retry, "{denial:?}");
    }
}

#[test]
fn path_and_rule_refusals_carry_no_challenge() {
    let answer = Denial::InvalidPath(PathError::EncodedSeparator).http_answer(REALM);
    assert_eq!(
        (answer.status, answer.www_authenticate, answer.body),
        (400, None, r#"{"message":"Bad Request"}"#)
    );
    let answer = Denial::NoRule.http_answer(REALM);
    assert_eq!(
        (answer.status, answer.www_authenticate, answer.body),
        (403, None, r#"{"message":"Forbidden"}"#)
    );
}

#[test]
fn the_realm_is_the_callers() {
    let answer = Denial::MissingToken.http_answer("cognito-authorizer");
    assert_eq!(
        answer.www_authenticate.as_deref(),
        Some("Bearer realm=\"cognito-authorizer\"")
    );
}

#[test]
fn every_token_rejection_but_unavailability_is_a_401() {
    for rejection in Rejection::ALL {
        let status = Denial::Rejected(rejection).http_answer(REALM).status;
        if rejection.is_unavailable() {
            assert_eq!(status, 503);
        } else {
            assert_eq!(status, 401, "{rejection:?}");
        }
    }
}

#[test]
fn reasons_are_distinct_labels() {
    let mut denials = vec![
        Denial::InvalidPath(PathError::AboveRoot),
        Denial::MissingToken,
        Denial::InsufficientScope("a".into()),
        Denial::NoRule,
    ];
    denials.extend(Rejection::ALL.map(Denial::Rejected));
    let mut reasons: Vec<&str> = denials.iter().map(Denial::reason).collect();
    assert!(reasons.iter().all(|reason| {
        !reason.is_empty() && reason.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
    }));
    reasons.sort_unstable();
    reasons.dedup();
    assert_eq!(reasons.len(), denials.len());
}
