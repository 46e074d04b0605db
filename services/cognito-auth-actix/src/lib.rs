//! actix-web integration of [`cognito_auth::authorization`]: a middleware that judges every
//! request by a route policy, an extractor for the verified claims, and the one conversion of a
//! [`Denial`] into an actix `HttpResponse`.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header;
use cognito_auth::authorization::Denial;

/// The HTTP answer for `denial`, challenge naming `realm` (see [`Denial::http_answer`]).
pub fn deny_response(denial: &Denial, realm: &str) -> HttpResponse {
    let answer = denial.http_answer(realm);
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = HttpResponse::build(status);
    if let Some(challenge) = answer.www_authenticate {
        response.insert_header((header::WWW_AUTHENTICATE, challenge));
    }
    if let Some(seconds) = answer.retry_after {
        response.insert_header((header::RETRY_AFTER, seconds.to_string()));
    }
    response
        .content_type(header::ContentType::json())
        .body(answer.body)
}
