use super::*;

const REALM: &str = "premium-content";

#[test]
fn answers_follow_rfc_6750() {
    let answer = Denial::MissingToken.http_answer(REALM);
    assert_eq!(answer.status, 401);
    assert_eq!(
        answer.www_authenticate.as_deref(),
        Some("Bearer realm=\"premium-content\"")
    );
    assert_eq!(answer.body, r#"{"message":"Unauthorized"}"#);
    assert_eq!(answer.retry_after, None);

    let answer = Denial::Rejected(Rejection::BadSignature).http_answer(REALM);
    assert_eq!(answer.status, 401);
    // RFC 6750 section 3: auth-params as quoted-strings, comma-separated.
    assert_eq!(
        answer.www_authenticate.as_deref(),
        Some(
            "Bearer realm=\"premium-content\", error=\"invalid_token\", \
             error_description=\"The access token is invalid\""
        )
    );
    assert_eq!(answer.body, r#"{"message":"Unauthorized"}"#);
    let answer = Denial::Rejected(Rejection::Expired).http_answer(REALM);
    assert!(
        answer
            .www_authenticate
            .unwrap()
            .ends_with("error_description=\"The access token expired\"")
    );

    let answer =
        Denial::InsufficientScope("premium_api/read premium_api/write".into()).http_answer(REALM);
    assert_eq!(answer.status, 403);
    assert_eq!(
        answer.www_authenticate.as_deref(),
        Some(
            "Bearer realm=\"premium-content\", error=\"insufficient_scope\", \
             scope=\"premium_api/read premium_api/write\""
        )
    );
    assert_eq!(answer.body, r#"{"message":"Forbidden"}"#);

    let answer = Denial::Rejected(Rejection::KeysUnavailable).http_answer(REALM);
    assert_eq!(answer.status, 503);
    assert_eq!(answer.www_authenticate, None);
    assert_eq!(answer.retry_after, Some(1));
    assert_eq!(answer.body, r#"{"message":"Service Unavailable"}"#);
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
