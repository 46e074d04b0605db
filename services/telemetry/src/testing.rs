//! The check each binary's tests run against the real process, once per `LOG_LEVEL` name, so
//! that every binary is shown to read the names the same way (feature `testing`).

use crate::level::{LEVEL_NAMES, OUR_CRATES, Verbosity};

/// One JSON log line, as [`crate::LogFormat::Json`] writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// `TRACE`, `DEBUG`, `INFO`, `WARN` or `ERROR`.
    pub level: String,
    /// The module path that logged it, e.g. `premium_content::auth`.
    pub target: String,
    /// The message.
    pub message: String,
}

impl LogLine {
    fn verbosity(&self) -> Verbosity {
        Verbosity::from_name(&self.level).unwrap_or(Verbosity::Trace)
    }
}

/// The JSON log lines in a process's output; other lines (plain `eprintln!` text) are skipped.
pub fn json_lines(output: &str) -> Vec<LogLine> {
    output
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter_map(|value| {
            let field = |name: &str| value.get(name)?.as_str().map(str::to_owned);
            Some(LogLine {
                level: field("level")?,
                target: field("target")?,
                message: field("message").unwrap_or_default(),
            })
        })
        .collect()
}

/// Runs the binary once per level name (upper and lower case) and checks what it logged.
///
/// `run(name)` starts the real binary with `LOG_LEVEL=name` and `LOG_FORMAT=json` (and no
/// `RUST_LOG`), lets it reach a point where it logs an error containing `error_fragment` (when
/// given) and returns everything it printed. Panics, naming the level, when:
/// - a line is more verbose than the level allows (nothing at all for `OFF`);
/// - the `starting` line is missing at `INFO` and above, or the `log filter` line at `DEBUG`;
/// - a debug or trace line comes from a dependency rather than this project's crates;
/// - the expected error line is missing at any level but `OFF`.
pub fn check_every_level_name(mut run: impl FnMut(&str) -> String, error_fragment: Option<&str>) {
    for (name, verbosity) in LEVEL_NAMES {
        for spelling in [name.to_string(), name.to_ascii_lowercase()] {
            let output = run(&spelling);
            let lines = json_lines(&output);
            let context = format!("LOG_LEVEL={spelling}: {output}");
            for line in &lines {
                assert!(line.verbosity() <= *verbosity, "{line:?} logged; {context}");
                if line.verbosity() >= Verbosity::Debug {
                    let ours = OUR_CRATES
                        .iter()
                        .any(|c| line.target == *c || line.target.starts_with(&format!("{c}::")));
                    assert!(ours, "a dependency's {line:?} logged; {context}");
                }
            }
            let has = |level: &str, message: &str| {
                lines
                    .iter()
                    .any(|l| l.level == level && l.message.contains(message))
            };
            assert_eq!(
                has("INFO", "starting"),
                *verbosity >= Verbosity::Info,
                "{context}"
            );
            assert_eq!(
                has("DEBUG", "log filter"),
                *verbosity >= Verbosity::Debug,
                "{context}"
            );
            if let Some(fragment) = error_fragment {
                assert_eq!(
                    has("ERROR", fragment),
                    *verbosity >= Verbosity::Error,
                    "{context}"
                );
            }
        }
    }
}

/// [`check_every_level_name`] for a server binary. `command()` gives the binary with a valid
/// environment; `LISTEN_ADDR` is set here to an address already taken, so every run ends at once
/// with the binary's error naming `LISTEN_ADDR`, which is checked at every level but `OFF`.
pub fn check_every_level_name_of_server(mut command: impl FnMut() -> std::process::Command) {
    let busy = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let address = busy.local_addr().expect("its address").to_string();
    check_every_level_name(
        |level| logs_of(command().env("LISTEN_ADDR", &address), level),
        Some("LISTEN_ADDR"),
    );
}

/// Runs `command` to its end with `LOG_LEVEL=level`, `LOG_FORMAT=json` and no `RUST_LOG`, and
/// returns everything it printed (standard output, then standard error).
pub fn logs_of(command: &mut std::process::Command, level: &str) -> String {
    let output = command
        .env_remove("RUST_LOG")
        .env("LOG_LEVEL", level)
        .env("LOG_FORMAT", "json")
        .output()
        .expect("the binary runs");
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}
