//! The shutdown sequence every HTTP server we ship runs on SIGTERM (and SIGINT), so that rolling
//! updates, node drains and scale-ins behind a Service or an ALB drop no request:
//!
//! 1. **Fail readiness at once**: [`Draining::is_draining`] turns true; each server's `/readyz`
//!    answers 503 from then on.
//! 2. **Keep serving for [`ShutdownSettings::delay`]** (`SHUTDOWN_DELAY`). Kubernetes removes the
//!    pod from its Service's endpoints and the AWS Load Balancer Controller deregisters its ALB
//!    target *after* SIGTERM, asynchronously; until they have, new connections and requests keep
//!    arriving. Responses carry `Connection: close` meanwhile, so clients holding kept-alive
//!    connections to this pod open new ones, which reach the pods that stay.
//! 3. **Stop accepting and drain**: the listener closes; requests in flight finish within
//!    [`ShutdownSettings::drain_timeout`], after which remaining connections are closed.
//!
//! The images have no shell, so a `preStop` `sleep` cannot provide step 2: the delay is here.
//! A second signal during the delay skips the rest of it (a person pressing Ctrl-C twice).
//!
//! A server opts in with three things: `.disable_signals()` and
//! `.shutdown_timeout(settings.drain_timeout_secs())` on its `HttpServer`, the
//! [`close_connections_when_draining`] middleware with a [`Draining`] in its app data, and
//! [`on_signals`] on the running server. Signals are per process, so every server started in a
//! process (the local stack runs two) runs the sequence.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{ServerHandle, ServiceRequest, ServiceResponse};
use actix_web::http::ConnectionType;
use actix_web::middleware::Next;
use actix_web::web;
use tokio::signal::unix::{SignalKind, signal};

/// `SHUTDOWN_DELAY` by default: the chart's numbers are built on it (see the README's
/// "Rolling updates" section): ALB deregistration delay 10 s plus 5 s for the AWS Load Balancer
/// Controller to see the endpoint change and deregister the target.
pub const DEFAULT_SHUTDOWN_DELAY: Duration = Duration::from_secs(15);

/// Time requests in flight get to finish once the listener is closed; the chart's
/// `terminationGracePeriodSeconds` is `SHUTDOWN_DELAY` + this + 5 s of margin.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// Time between pausing the accept thread and stopping the workers, for connections already
/// accepted to reach a worker (an in-process channel: microseconds, unless the machine is busy).
const ACCEPT_HANDOVER: Duration = Duration::from_millis(100);

/// The shutdown variable, for a server binary's settings (`#[command(flatten)]`).
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
pub struct ShutdownArgs {
    /// Time to keep serving after SIGTERM, with /readyz answering 503, before the listener
    /// closes: long enough for the Service's endpoints and the ALB's target group to drop this
    /// pod (e.g. 15s; 0s stops accepting at once). Requests in flight then get 10 s to finish.
    #[arg(long, env = "SHUTDOWN_DELAY", default_value = "15s", value_parser = humantime::parse_duration)]
    pub shutdown_delay: Duration,
}

impl ShutdownArgs {
    /// The settings these arguments give.
    pub fn settings(&self) -> ShutdownSettings {
        ShutdownSettings {
            delay: self.shutdown_delay,
            ..ShutdownSettings::default()
        }
    }
}

/// How a server shuts down on a signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShutdownSettings {
    /// Serving on after the signal, readiness failing ([`DEFAULT_SHUTDOWN_DELAY`]).
    pub delay: Duration,
    /// Requests in flight get this long to finish once the listener is closed
    /// ([`DRAIN_TIMEOUT`]); actix counts it in whole seconds.
    pub drain_timeout: Duration,
}

impl ShutdownSettings {
    /// No delay: stop accepting on the signal, then drain (development tools, where no load
    /// balancer needs time to drop the process).
    pub const IMMEDIATE: ShutdownSettings = ShutdownSettings {
        delay: Duration::ZERO,
        drain_timeout: DRAIN_TIMEOUT,
    };

    /// [`Self::drain_timeout`] in whole seconds, rounded up, for `HttpServer::shutdown_timeout`.
    pub fn drain_timeout_secs(&self) -> u64 {
        self.drain_timeout.as_secs() + u64::from(self.drain_timeout.subsec_nanos() > 0)
    }
}

impl Default for ShutdownSettings {
    fn default() -> Self {
        Self {
            delay: DEFAULT_SHUTDOWN_DELAY,
            drain_timeout: DRAIN_TIMEOUT,
        }
    }
}

/// Whether the server is shutting down; cheap to clone, shared by the signal task, `/readyz`
/// and [`close_connections_when_draining`].
#[derive(Debug, Clone, Default)]
pub struct Draining(Arc<AtomicBool>);

impl Draining {
    /// True from the first SIGTERM/SIGINT on: `/readyz` must answer 503.
    pub fn is_draining(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    fn begin(&self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Middleware (`.wrap(from_fn(close_connections_when_draining))`, with a `web::Data<Draining>`
/// in the app data): once draining, every response carries `Connection: close` (RFC 9112
/// section 9.6), so each kept-alive client moves to a new connection, which reaches a pod that
/// stays, instead of being cut when this one exits. Without the app data it does nothing.
pub async fn close_connections_when_draining(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let draining = request
        .app_data::<web::Data<Draining>>()
        .is_some_and(|draining| draining.is_draining());
    let mut response = next.call(request).await?;
    if draining {
        response
            .response_mut()
            .head_mut()
            .set_connection_type(ConnectionType::Close);
    }
    Ok(response)
}

/// Runs the shutdown sequence of `server` on the first SIGTERM or SIGINT the process receives:
/// marks `draining`, keeps serving for `settings.delay` (cut short by a second signal), then
/// stops the server gracefully (it must have been built with `.disable_signals()` and
/// `.shutdown_timeout(settings.drain_timeout_secs())`). The server's own future completes when
/// it has drained. Must be called within a tokio runtime.
///
/// Errors: the signal handlers cannot be installed (no tokio signal driver).
pub fn on_signals(
    server: ServerHandle,
    draining: Draining,
    settings: ShutdownSettings,
) -> std::io::Result<()> {
    // Installed now, not in the task, so that a signal arriving straight after start is seen.
    let mut terminate = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    tokio::spawn(async move {
        let name = tokio::select! {
            _ = terminate.recv() => "SIGTERM",
            _ = interrupt.recv() => "SIGINT",
        };
        draining.begin();
        tracing::info!(
            signal = name,
            delay_ms = settings.delay.as_millis() as u64,
            "shutting down: /readyz answers 503; serving on for SHUTDOWN_DELAY before the \
             listener closes"
        );
        tokio::select! {
            _ = tokio::time::sleep(settings.delay) => {}
            _ = terminate.recv() => tracing::info!("second signal: skipping the rest of SHUTDOWN_DELAY"),
            _ = interrupt.recv() => tracing::info!("second signal: skipping the rest of SHUTDOWN_DELAY"),
        }
        tracing::info!(
            drain_timeout_ms = settings.drain_timeout.as_millis() as u64,
            "listener closed; draining requests in flight"
        );
        // Accepting stops first, the workers only once they have taken what was accepted:
        // actix-server closes, unanswered, the connections its accept thread hands to a worker
        // that is already stopping.
        server.pause().await;
        tokio::time::sleep(ACCEPT_HANDOVER).await;
        server.stop(true).await;
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        shutdown: ShutdownArgs,
    }

    #[test]
    fn shutdown_delay_reads_durations_and_names_itself_when_bad() {
        let default = Cli::try_parse_from(["x"]).unwrap().shutdown.settings();
        assert_eq!(default, ShutdownSettings::default());
        let set = Cli::try_parse_from(["x", "--shutdown-delay", "2500ms"]).unwrap();
        assert_eq!(set.shutdown.settings().delay, Duration::from_millis(2500));
        let error = Cli::try_parse_from(["x", "--shutdown-delay", "soon"]).unwrap_err();
        assert!(error.to_string().contains("SHUTDOWN_DELAY"), "{error}");
    }

    #[test]
    fn drain_timeout_rounds_up_to_whole_seconds() {
        let settings = |drain_timeout| ShutdownSettings {
            drain_timeout,
            ..ShutdownSettings::default()
        };
        assert_eq!(settings(Duration::from_secs(10)).drain_timeout_secs(), 10);
        assert_eq!(
            settings(Duration::from_millis(1500)).drain_timeout_secs(),
            2
        );
        assert_eq!(settings(Duration::ZERO).drain_timeout_secs(), 0);
    }
}
