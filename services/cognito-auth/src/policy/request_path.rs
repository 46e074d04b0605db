//! A request's path as policies match it (see the module documentation of [`crate::policy`]).

/// A normalised absolute path: starts with `/`, no empty, `.` or `..` segments, no trailing
/// slash (except `/` itself), percent-encoded unreserved characters decoded, other
/// percent-encodings upper-case. No query.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RequestPath(String);

/// A request path that cannot be judged safely; answered 400, never guessed at.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    /// Not an absolute path (`*`, `http://...` in the path position, empty).
    #[error("the path is not absolute")]
    NotAbsolute,
    /// An encoded `/` or `\` (`%2F`, `%5C`): servers disagree on whether it separates segments.
    #[error("the path holds an encoded slash or backslash")]
    EncodedSeparator,
    /// `..` climbing above the root.
    #[error("the path climbs above the root")]
    AboveRoot,
    /// A `%` not followed by two hex digits, or a control character.
    #[error("the path is not a valid URI path")]
    InvalidEncoding,
    /// Longer than [`RequestPath::MAX_LEN`] bytes.
    #[error("the path is too long")]
    TooLong,
}

impl RequestPath {
    /// Longest raw path accepted, in bytes.
    pub const MAX_LEN: usize = 8 * 1024;

    /// Normalises `raw` (the path of a request target, without `?query`).
    pub fn normalize(raw: &str) -> Result<Self, PathError> {
        let _ = raw;
        unimplemented!("issue 15: policy")
    }

    /// The normalised path.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
