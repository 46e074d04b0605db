//! Path patterns of rules: `/a/b` exact, `*` one whole segment, `**` (last) any depth, and
//! whether one pattern covers another (for unreachable rules).

use super::RequestPath;

/// A checked path pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PathPattern {
    segments: Vec<Segment>,
    /// Ends in `**`: the path before it and anything below.
    any_depth: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    /// `*`.
    One,
}

impl PathPattern {
    /// Parses `pattern`; the error says what is wrong with it (the caller names where).
    ///
    /// A pattern must be in the form [`RequestPath::normalize`] gives, or some requests it is
    /// meant to match would never match it (`/a/` or `/a/%7e` could match nothing).
    pub(crate) fn parse(pattern: &str) -> Result<Self, String> {
        if !pattern.starts_with('/') {
            return Err(format!("path {pattern:?} must start with \"/\""));
        }
        match RequestPath::normalize(pattern) {
            Ok(normalised) if normalised.as_str() == pattern => {}
            Ok(normalised) => {
                return Err(format!(
                    "path {pattern:?} is not in normalised form (requests are matched as \
                     {normalised:?}; write that)",
                    normalised = normalised.as_str()
                ));
            }
            Err(error) => return Err(format!("path {pattern:?}: {error}")),
        }
        let raw: Vec<&str> = pattern[1..].split('/').filter(|s| !s.is_empty()).collect();
        let mut segments = Vec::with_capacity(raw.len());
        let mut any_depth = false;
        for (i, segment) in raw.iter().enumerate() {
            match *segment {
                "**" if i + 1 == raw.len() => any_depth = true,
                "**" => {
                    return Err(format!(
                        "path {pattern:?}: \"**\" may only be the last segment"
                    ));
                }
                "*" => segments.push(Segment::One),
                literal if literal.contains('*') => {
                    return Err(format!(
                        "path {pattern:?}: \"*\" and \"**\" must be whole segments \
                         (segment {literal:?})"
                    ));
                }
                literal => segments.push(Segment::Literal(literal.to_owned())),
            }
        }
        Ok(Self {
            segments,
            any_depth,
        })
    }

    /// Whether `path` matches.
    pub(crate) fn matches(&self, path: &RequestPath) -> bool {
        let mut path_segments = path.segments();
        for segment in &self.segments {
            match (segment, path_segments.next()) {
                (_, None) => return false,
                (Segment::One, Some(_)) => {}
                (Segment::Literal(literal), Some(actual)) if literal == actual => {}
                (Segment::Literal(_), Some(_)) => return false,
            }
        }
        self.any_depth || path_segments.next().is_none()
    }

    /// Whether every path `other` matches, this pattern matches too.
    pub(crate) fn covers(&self, other: &PathPattern) -> bool {
        let lengths_fit = if self.any_depth {
            self.segments.len() <= other.segments.len()
        } else {
            !other.any_depth && self.segments.len() == other.segments.len()
        };
        lengths_fit
            && self
                .segments
                .iter()
                .zip(&other.segments)
                .all(|(mine, theirs)| match (mine, theirs) {
                    (Segment::One, _) => true,
                    (Segment::Literal(a), Segment::Literal(b)) => a == b,
                    (Segment::Literal(_), Segment::One) => false,
                })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(text: &str) -> PathPattern {
        PathPattern::parse(text).unwrap()
    }

    fn matches(pattern_text: &str, path: &str) -> bool {
        pattern(pattern_text).matches(&RequestPath::normalize(path).unwrap())
    }

    #[test]
    fn exact_one_segment_and_any_depth() {
        assert!(matches("/home/premium", "/home/premium"));
        assert!(!matches("/home/premium", "/home/premium/x"));
        assert!(!matches("/home/premium", "/home"));
        assert!(matches("/", "/"));
        assert!(!matches("/", "/a"));
        assert!(matches("/a/*", "/a/b"));
        assert!(!matches("/a/*", "/a"));
        assert!(!matches("/a/*", "/a/b/c"));
        assert!(matches("/a/*/c", "/a/b/c"));
        assert!(!matches("/a/*/c", "/a/b/d"));
        for path in ["/a", "/a/b", "/a/b/c"] {
            assert!(matches("/a/**", path), "{path}");
        }
        assert!(!matches("/a/**", "/ab"));
        assert!(!matches("/a/**", "/"));
        assert!(matches("/**", "/"));
        assert!(matches("/**", "/x/y"));
        assert!(matches("/*/**", "/x/y"));
        assert!(!matches("/*/**", "/"));
    }

    #[test]
    fn patterns_must_be_normalised_and_wildcards_whole() {
        for (bad, says) in [
            ("home", "must start with \"/\""),
            ("", "must start with \"/\""),
            ("/home/", "write that"),
            ("//home", "write that"),
            ("/a/./b", "write that"),
            ("/a/../b", "write that"),
            ("/%7euser", "write that"),
            ("/a%2fb", "encoded slash"),
            ("/a%zz", "not a valid URI path"),
            ("/..", "above the root"),
            ("/a*b", "whole segments"),
            ("/a/***", "whole segments"),
            ("/**/a", "only be the last segment"),
            ("/a b", "write that"),
        ] {
            let error = PathPattern::parse(bad).unwrap_err();
            assert!(error.contains(says), "{bad:?}: {error}");
        }
        assert!(PathPattern::parse("/a%3Fb/*/**").is_ok());
    }

    #[test]
    fn coverage_follows_matching() {
        for (wide, narrow) in [
            ("/a", "/a"),
            ("/a/*", "/a/b"),
            ("/a/*", "/a/*"),
            ("/a/**", "/a"),
            ("/a/**", "/a/b/c"),
            ("/a/**", "/a/*/c/**"),
            ("/**", "/"),
            ("/**", "/x/**"),
            ("/*/b", "/a/b"),
        ] {
            assert!(
                pattern(wide).covers(&pattern(narrow)),
                "{wide} covers {narrow}"
            );
        }
        for (wide, narrow) in [
            ("/a/b", "/a/*"),
            ("/a/*", "/a/**"),
            ("/a/*", "/a"),
            ("/a/b/**", "/a/**"),
            ("/a", "/b"),
            ("/a/**", "/b/**"),
            ("/", "/a"),
            ("/*/**", "/"),
        ] {
            assert!(
                !pattern(wide).covers(&pattern(narrow)),
                "{wide} does not cover {narrow}"
            );
        }
    }
}
