//! `LOG_LEVEL`'s names: the AWS sample's (Python `logging`) and `tracing`'s, in any case.
//!
//! Python's names come from the `logging` module's level table
//! (<https://docs.python.org/3/library/logging.html#logging-levels>): `CRITICAL` (also `FATAL`),
//! `ERROR`, `WARNING` (also `WARN`), `INFO`, `DEBUG`, `NOTSET`. A bare name is read before
//! `tracing` sees it, because `tracing` takes an unknown bare word for a target name: `WARNING`
//! used to switch every log line off.

/// The crates of this project: the ones `DEBUG` and `TRACE` raise. Dependencies stay at `info`
/// so their per-request internals (HTTP, TLS, AWS SDK) do not flood the log.
pub const OUR_CRATES: &[&str] = &[
    "cognito_auth",
    "cognito_auth_actix",
    "cognito_authorizer",
    "cognito_client_operator",
    "content_consumer",
    "local_cognito",
    "local_stack",
    "premium_content",
    "telemetry",
    "test_support",
];

/// How much a level name lets through, from nothing to everything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verbosity {
    /// `off`: no log line at all.
    Off,
    /// `error`, `CRITICAL`, `FATAL`.
    Error,
    /// `warn`, `WARNING`.
    Warn,
    /// `info`.
    Info,
    /// `debug`: our crates at debug, dependencies at info.
    Debug,
    /// `trace`, `NOTSET` (Python's "everything"): our crates at trace, dependencies at info.
    Trace,
}

/// Every accepted level name with its verbosity (each also accepted in any case).
pub const LEVEL_NAMES: &[(&str, Verbosity)] = &[
    ("OFF", Verbosity::Off),
    ("CRITICAL", Verbosity::Error),
    ("FATAL", Verbosity::Error),
    ("ERROR", Verbosity::Error),
    ("WARNING", Verbosity::Warn),
    ("WARN", Verbosity::Warn),
    ("INFO", Verbosity::Info),
    ("DEBUG", Verbosity::Debug),
    ("TRACE", Verbosity::Trace),
    ("NOTSET", Verbosity::Trace),
];

impl Verbosity {
    /// The verbosity a level name stands for, in any case; `None` for anything else.
    pub fn from_name(name: &str) -> Option<Verbosity> {
        let name = name.trim();
        LEVEL_NAMES
            .iter()
            .find(|(known, _)| known.eq_ignore_ascii_case(name))
            .map(|(_, verbosity)| *verbosity)
    }

    /// The `tracing` level name (`off`, `error`, `warn`, `info`, `debug`, `trace`).
    pub fn tracing_name(self) -> &'static str {
        match self {
            Verbosity::Off => "off",
            Verbosity::Error => "error",
            Verbosity::Warn => "warn",
            Verbosity::Info => "info",
            Verbosity::Debug => "debug",
            Verbosity::Trace => "trace",
        }
    }

    /// The filter directives for this verbosity applied to the whole process.
    fn directives(self) -> String {
        match self {
            Verbosity::Debug | Verbosity::Trace => {
                let level = self.tracing_name();
                let ours: Vec<String> = OUR_CRATES.iter().map(|c| format!("{c}={level}")).collect();
                format!("info,{}", ours.join(","))
            }
            _ => self.tracing_name().to_owned(),
        }
    }
}

/// Reads a `LOG_LEVEL` value into `tracing` filter directives.
///
/// A value is a comma-separated list of items; each item is a level name (see [`LEVEL_NAMES`])
/// or `target=level` with a level name (`cognito_auth=DEBUG`). Anything else, a bare word that is
/// no level name above all, is an error that says what was expected.
pub fn directives(log_level: &str) -> Result<String, String> {
    let mut out = Vec::new();
    for item in log_level.split(',').map(str::trim) {
        if item.is_empty() {
            continue;
        }
        match item.split_once('=') {
            None => match Verbosity::from_name(item) {
                Some(verbosity) => out.push(verbosity.directives()),
                None => return Err(format!("unknown level {item:?} (expected {})", expected())),
            },
            Some((target, level)) => {
                let target = target.trim();
                // Span-field directives (`target[span{field=value}]=level`) keep their own syntax.
                if target.is_empty() || target.contains(char::is_whitespace) {
                    return Err(format!("{item:?} names no target"));
                }
                match Verbosity::from_name(level) {
                    Some(verbosity) => out.push(format!("{target}={}", verbosity.tracing_name())),
                    None => {
                        return Err(format!(
                            "unknown level {:?} for {target} (expected {})",
                            level.trim(),
                            expected()
                        ));
                    }
                }
            }
        }
    }
    if out.is_empty() {
        return Err(format!("no level given (expected {})", expected()));
    }
    Ok(out.join(","))
}

fn expected() -> String {
    let names: Vec<&str> = LEVEL_NAMES.iter().map(|(name, _)| *name).collect();
    format!("one of {} in any case, or target=level", names.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_is_read_in_any_case() {
        for (name, verbosity) in LEVEL_NAMES {
            for spelling in [
                name.to_string(),
                name.to_ascii_lowercase(),
                capitalised(name),
            ] {
                assert_eq!(
                    Verbosity::from_name(&spelling),
                    Some(*verbosity),
                    "{spelling}"
                );
                let directives = directives(&spelling).unwrap();
                assert!(
                    directives.starts_with(match verbosity {
                        Verbosity::Debug | Verbosity::Trace => "info,",
                        other => other.tracing_name(),
                    }),
                    "{spelling}: {directives}"
                );
            }
        }
    }

    #[test]
    fn debug_raises_only_our_crates() {
        let directives = directives("DEBUG").unwrap();
        let mut items = directives.split(',');
        assert_eq!(items.next(), Some("info"));
        for item in items {
            let (target, level) = item.split_once('=').unwrap();
            assert!(OUR_CRATES.contains(&target), "{item}");
            assert_eq!(level, "debug");
        }
        assert!(directives.contains("premium_content=debug"));
        assert!(directives.contains("cognito_auth=debug"));
    }

    #[test]
    fn python_names_work_inside_target_directives() {
        assert_eq!(
            directives("WARNING,cognito_auth=DEBUG, hyper = critical").unwrap(),
            "warn,cognito_auth=debug,hyper=error"
        );
    }

    #[test]
    fn a_bare_word_that_is_no_level_is_refused_not_taken_for_a_target() {
        for bad in [
            "verbose",
            "WARNINGS",
            "info,loud",
            "",
            " , ",
            "=debug",
            "x=loud",
        ] {
            let error = directives(bad).unwrap_err();
            assert!(
                error.contains("expected") || error.contains("no target"),
                "{bad}: {error}"
            );
        }
    }

    fn capitalised(name: &str) -> String {
        let lower = name.to_ascii_lowercase();
        let mut chars = lower.chars();
        chars
            .next()
            .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
            .unwrap_or_default()
    }
}
