//! The API: the seed's three content routes, each passing premium content's response through.

use actix_web::{HttpResponse, web};

use crate::error::ConsumerError;
use crate::metrics::Metrics;
use crate::premium_api::{PremiumApi, PremiumResponse};

/// Registers the content routes; handlers find the [`PremiumApi`] and [`Metrics`] in the app
/// data.
pub(crate) fn configure(config: &mut web::ServiceConfig) {
    config
        .route(
            "/content/unauthorized-read",
            web::get().to(unauthorized_read),
        )
        .route("/content/authorized-read", web::get().to(authorized_read))
        // The contract says GET; POST is accepted too, as it is what the route does upstream.
        .route("/content/authorized-write", web::get().to(authorized_write))
        .route(
            "/content/authorized-write",
            web::post().to(authorized_write),
        );
}

async fn unauthorized_read(
    premium: web::Data<PremiumApi>,
    metrics: web::Data<Metrics>,
) -> Result<HttpResponse, ConsumerError> {
    pass_through(
        &metrics,
        "unauthorized-read",
        premium.read_without_token().await,
    )
}

async fn authorized_read(
    premium: web::Data<PremiumApi>,
    metrics: web::Data<Metrics>,
) -> Result<HttpResponse, ConsumerError> {
    pass_through(&metrics, "authorized-read", premium.read().await)
}

async fn authorized_write(
    premium: web::Data<PremiumApi>,
    metrics: web::Data<Metrics>,
) -> Result<HttpResponse, ConsumerError> {
    pass_through(&metrics, "authorized-write", premium.write().await)
}

/// Counts the route's answer, then gives premium content's response as it came, or the failure
/// (mapped to HTTP in [`ConsumerError`]).
fn pass_through(
    metrics: &Metrics,
    route: &'static str,
    result: Result<PremiumResponse, ConsumerError>,
) -> Result<HttpResponse, ConsumerError> {
    let status = match &result {
        Ok(response) => response.status,
        Err(error) => error.status_and_message().0,
    };
    metrics.observe_response(route, status.as_u16());
    result.map(|response| {
        HttpResponse::build(response.status)
            .content_type("application/json")
            .body(response.body)
    })
}
