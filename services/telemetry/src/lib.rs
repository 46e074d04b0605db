//! Logging set-up for every cognito-m2m binary, so that `LOG_LEVEL`, `RUST_LOG` and `LOG_FORMAT`
//! mean the same thing in every process (and in the chart's one `logLevel` value).
//!
//! - `RUST_LOG`, when set and not empty, is used verbatim as a `tracing` filter.
//! - Otherwise `LOG_LEVEL` (the AWS sample's variable) names a level, with Python's names
//!   (`CRITICAL`, `FATAL`, `ERROR`, `WARNING`, `WARN`, `INFO`, `DEBUG`, `NOTSET`) and tracing's
//!   (`off`, `error`, `warn`, `info`, `debug`, `trace`) in any case; see [`level`]. `DEBUG`, `TRACE`
//!   and `NOTSET` raise only this project's crates: dependencies stay at `info`.
//! - `LOG_FORMAT` is `json` (one object per line, for collectors) or `text` (for people); colour
//!   codes only when the output is a terminal.
//!
//! Anything that does not parse is an [`Error`] naming the variable, which binaries print before
//! exiting with status 2: a silent fallback would hide the logs someone asked for.
//!
//! Only binaries depend on this crate; the auth core (`cognito-auth`) never sets up logging.
//!
//! [`shutdown`]: the sequence every HTTP server runs on SIGTERM (`SHUTDOWN_DELAY`), so that the
//! way a process leaves its load balancer is, like its logs, the same in every binary.

pub mod level;
pub mod shutdown;
#[cfg(feature = "testing")]
pub mod testing;

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::{self, writer::BoxMakeWriter};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

pub use level::Verbosity;

/// The logging variables, for a binary's settings (`#[command(flatten)]`). Unset values take the
/// binary's [`Defaults`].
#[derive(Debug, Clone, Default, PartialEq, Eq, clap::Args)]
pub struct LogArgs {
    /// Log level: CRITICAL, ERROR, WARNING, INFO, DEBUG (Python's names, any case) or off, error,
    /// warn, info, debug, trace; `target=level` directives also work. DEBUG raises only this
    /// project's crates. RUST_LOG, when set, is used verbatim instead.
    #[arg(long, env = "LOG_LEVEL")]
    pub log_level: Option<String>,

    /// Log format: `json` (one object per line, for log collectors) or `text` (for people).
    #[arg(long, env = "LOG_FORMAT", value_enum, ignore_case = true)]
    pub log_format: Option<LogFormat>,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// One JSON object per line, fields flattened (`timestamp`, `level`, `target`, `message`, ...).
    Json,
    /// Human-readable lines.
    Text,
}

/// Where log lines go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogOutput {
    /// Standard output: what container runtimes collect.
    Stdout,
    /// Standard error: for tools whose standard output is for people (local-stack, local-cognito).
    Stderr,
}

/// A binary's defaults for what its [`LogArgs`] leave unset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Defaults {
    /// The level when neither `LOG_LEVEL` nor `RUST_LOG` is set.
    pub level: &'static str,
    /// The format when `LOG_FORMAT` is unset.
    pub format: LogFormat,
    /// Where lines go.
    pub output: LogOutput,
}

impl Defaults {
    /// A deployed service: `info`, JSON, standard output.
    pub const SERVICE: Defaults = Defaults {
        level: "info",
        format: LogFormat::Json,
        output: LogOutput::Stdout,
    };
}

/// Logging that could not be set up; the message names the variable at fault.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Error {
    /// `LOG_LEVEL` is not a level name nor a valid list of directives.
    #[error("LOG_LEVEL: {0}")]
    LogLevel(String),
    /// `RUST_LOG` is not a valid `tracing` filter.
    #[error("RUST_LOG: {0}")]
    RustLog(String),
    /// A global subscriber is already installed (a second call in one process).
    #[error("logging is already set up")]
    AlreadySet,
}

/// Installs the process-wide subscriber for `binary` (its name goes into the first log line).
///
/// Reads `RUST_LOG` from the environment; everything else comes from `args` and `defaults`.
/// Logs `starting` at info level with the binary's name and version, and the filter in use at
/// debug level. Errors: [`Error`], naming the variable that does not parse.
pub fn init(binary: &str, version: &str, args: &LogArgs, defaults: Defaults) -> Result<(), Error> {
    let rust_log = std::env::var("RUST_LOG").ok();
    let (directives, filter) = filter(args.log_level.as_deref(), rust_log.as_deref(), defaults)?;
    let format = args.log_format.unwrap_or(defaults.format);
    let (writer, terminal) = match defaults.output {
        LogOutput::Stdout => (
            BoxMakeWriter::new(std::io::stdout),
            std::io::stdout().is_terminal(),
        ),
        LogOutput::Stderr => (
            BoxMakeWriter::new(std::io::stderr),
            std::io::stderr().is_terminal(),
        ),
    };
    let subscriber = tracing_subscriber::registry().with(filter);
    let installed = match format {
        LogFormat::Json => subscriber
            .with(
                fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(false)
                    .with_writer(writer),
            )
            .try_init(),
        // Colour codes only for a person at a terminal, never in collected logs.
        LogFormat::Text => subscriber
            .with(fmt::layer().with_ansi(terminal).with_writer(writer))
            .try_init(),
    };
    installed.map_err(|_| Error::AlreadySet)?;
    tracing::info!(binary, version, "starting");
    tracing::debug!(filter = %directives, "log filter");
    Ok(())
}

/// The `tracing` filter directives for these settings: `RUST_LOG` verbatim when set and not
/// blank, else `LOG_LEVEL` read by [`level::directives`], else the default level.
///
/// Errors: [`Error::RustLog`] for a malformed `RUST_LOG`; [`Error::LogLevel`] for an unknown
/// level name or a malformed directive.
pub fn filter_directives(
    log_level: Option<&str>,
    rust_log: Option<&str>,
    defaults: Defaults,
) -> Result<String, Error> {
    filter(log_level, rust_log, defaults).map(|(directives, _)| directives)
}

/// [`filter_directives`] and the filter they parse into, each error naming its variable.
fn filter(
    log_level: Option<&str>,
    rust_log: Option<&str>,
    defaults: Defaults,
) -> Result<(String, EnvFilter), Error> {
    if let Some(rust_log) = rust_log.filter(|value| !value.trim().is_empty()) {
        let filter =
            EnvFilter::try_new(rust_log).map_err(|error| Error::RustLog(error.to_string()))?;
        return Ok((rust_log.to_owned(), filter));
    }
    let level = log_level
        .filter(|value| !value.trim().is_empty())
        .unwrap_or(defaults.level);
    let directives = level::directives(level).map_err(Error::LogLevel)?;
    let filter =
        EnvFilter::try_new(&directives).map_err(|error| Error::LogLevel(error.to_string()))?;
    Ok((directives, filter))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_log_is_used_verbatim_and_named_when_broken() {
        let defaults = Defaults::SERVICE;
        assert_eq!(
            filter_directives(Some("WARNING"), Some("hyper=trace,info"), defaults),
            Ok("hyper=trace,info".to_owned())
        );
        assert!(matches!(
            filter_directives(Some("info"), Some("info,=nonsense="), defaults),
            Err(Error::RustLog(_))
        ));
        // A blank RUST_LOG is unset, as a chart that renders `RUST_LOG: ""` means it.
        assert_eq!(
            filter_directives(Some("error"), Some("  "), defaults),
            Ok("error".to_owned())
        );
    }

    #[test]
    fn log_level_falls_back_to_the_binarys_default_and_names_itself_when_bad() {
        let quiet = Defaults {
            level: "warn",
            ..Defaults::SERVICE
        };
        assert_eq!(filter_directives(None, None, quiet), Ok("warn".to_owned()));
        assert_eq!(
            filter_directives(Some(" "), None, quiet),
            Ok("warn".to_owned())
        );
        let error = filter_directives(Some("[broken"), None, quiet).unwrap_err();
        assert!(error.to_string().starts_with("LOG_LEVEL: "), "{error}");
    }

    /// Every crate of the workspace is one DEBUG raises: a new crate added without updating
    /// [`level::OUR_CRATES`] would log nothing at DEBUG.
    #[test]
    fn our_crates_cover_the_workspace() {
        // At run time, not compile time: a shared build cache may run a binary compiled in
        // another checkout (no test-support here: it depends on this crate's users).
        let manifest = std::env::var("CARGO_MANIFEST_DIR")
            .unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").to_owned());
        let root = format!("{manifest}/../..");
        let workspace = std::fs::read_to_string(format!("{root}/Cargo.toml")).unwrap();
        let members = workspace
            .split("members = [")
            .nth(1)
            .and_then(|rest| rest.split(']').next())
            .unwrap();
        for member in members.split(',').map(|m| m.trim().trim_matches('"')) {
            if member.is_empty() || member == "e2e" {
                continue;
            }
            let manifest = std::fs::read_to_string(format!("{root}/{member}/Cargo.toml")).unwrap();
            let name = manifest
                .lines()
                .find_map(|line| line.strip_prefix("name = "))
                .unwrap()
                .trim_matches('"')
                .replace('-', "_");
            assert!(level::OUR_CRATES.contains(&name.as_str()), "{name} missing");
        }
    }
}
