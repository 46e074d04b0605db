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
    /// A `%` not followed by two hex digits, a control character, a raw `\`, or a `.` / `..`
    /// segment with `;` parameters (`..;x`), which Tomcat and Spring read as a dot segment.
    #[error("the path is not a valid URI path")]
    InvalidEncoding,
    /// Longer than [`RequestPath::MAX_LEN`] bytes, raw or normalised.
    #[error("the path is too long")]
    TooLong,
}

impl RequestPath {
    /// Longest raw path accepted, in bytes.
    pub const MAX_LEN: usize = 8 * 1024;

    /// Normalises `raw` (the path of a request target, without `?query`).
    ///
    /// Per segment (RFC 3986 section 6.2.2): `%XX` of an unreserved character (`A-Z a-z 0-9 - .
    /// _ ~`) is decoded, every other `%XX` is kept with upper-case hex digits; characters a path
    /// may hold raw (unreserved, sub-delims, `:`, `@`) are kept; any other character (space,
    /// `"`, `?`, `#`, non-ASCII, ...) is percent-encoded as its UTF-8 bytes, so the result is
    /// ASCII and a `?` in it can only be data. Then, over the whole path (RFC 3986 section
    /// 5.2.4, with `%2e` counting as `.`): `.` segments and empty segments (`//`, a trailing
    /// slash) are dropped and `..` removes the segment before it.
    ///
    /// Errors, rather than guesses at what the upstream would read:
    /// [`PathError::TooLong`] over [`Self::MAX_LEN`] bytes; [`PathError::NotAbsolute`] when
    /// `raw` does not start with `/`; [`PathError::EncodedSeparator`] for `%2F` or `%5C`;
    /// [`PathError::AboveRoot`] for a `..` with nothing left to remove;
    /// [`PathError::InvalidEncoding`] for a `%` without two hex digits, a raw `\`, a control
    /// character, raw or encoded (`%00`-`%1F`, `%7F`), or a segment that is `.` or `..` before a
    /// `;` (`/public/..;/admin`: servers that strip path parameters, as Tomcat and Spring do,
    /// would read `/admin` where the policy sees `/public/...`). A normalised path longer than
    /// [`Self::MAX_LEN`] (encoding raw characters lengthens it) is [`PathError::TooLong`] too,
    /// so that every result normalises to itself.
    pub fn normalize(raw: &str) -> Result<Self, PathError> {
        if raw.len() > Self::MAX_LEN {
            return Err(PathError::TooLong);
        }
        let Some(rest) = raw.strip_prefix('/') else {
            return Err(PathError::NotAbsolute);
        };
        let mut normalised = String::with_capacity(raw.len());
        for segment in rest.split('/') {
            let start = normalised.len();
            normalised.push('/');
            push_segment(&mut normalised, segment)?;
            let normalised_segment = &normalised[start + 1..];
            if let Some((before, _parameters)) = normalised_segment.split_once(';')
                && matches!(before, "." | "..")
            {
                return Err(PathError::InvalidEncoding);
            }
            match normalised_segment {
                "" | "." => normalised.truncate(start),
                ".." => {
                    normalised.truncate(start);
                    // Every kept segment is non-empty and starts at its `/`: the last `/` left
                    // starts the segment `..` removes (no stack of starts to allocate).
                    let previous = normalised.rfind('/').ok_or(PathError::AboveRoot)?;
                    normalised.truncate(previous);
                }
                _ => {}
            }
        }
        if normalised.is_empty() {
            normalised.push('/');
        }
        if normalised.len() > Self::MAX_LEN {
            return Err(PathError::TooLong);
        }
        Ok(Self(normalised))
    }

    /// The normalised path.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The segments between the slashes (none for `/`).
    pub fn segments(&self) -> impl Iterator<Item = &str> {
        self.0[1..].split('/').filter(|segment| !segment.is_empty())
    }
}

impl std::fmt::Display for RequestPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Appends the normalised form of one raw segment.
fn push_segment(out: &mut String, segment: &str) -> Result<(), PathError> {
    let bytes = segment.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let byte = bytes[i];
        if byte == b'%' {
            let value = bytes
                .get(i + 1..i + 3)
                .and_then(|hex| Some(hex_value(hex[0])? << 4 | hex_value(hex[1])?))
                .ok_or(PathError::InvalidEncoding)?;
            match value {
                b'/' | b'\\' => return Err(PathError::EncodedSeparator),
                _ if value.is_ascii_control() => return Err(PathError::InvalidEncoding),
                _ if is_unreserved(value) => out.push(char::from(value)),
                _ => push_encoded(out, value),
            }
            i += 3;
            continue;
        }
        if byte.is_ascii_control() || byte == b'\\' {
            return Err(PathError::InvalidEncoding);
        }
        if is_unreserved(byte) || is_raw_in_segment(byte) {
            out.push(char::from(byte));
        } else {
            push_encoded(out, byte);
        }
        i += 1;
    }
    Ok(())
}

fn push_encoded(out: &mut String, byte: u8) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    out.push('%');
    out.push(char::from(HEX[usize::from(byte >> 4)]));
    out.push(char::from(HEX[usize::from(byte & 0xF)]));
}

fn hex_value(digit: u8) -> Option<u8> {
    char::from(digit)
        .to_digit(16)
        .and_then(|value| u8::try_from(value).ok())
}

/// RFC 3986 section 2.3.
fn is_unreserved(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~')
}

/// The other characters of RFC 3986's `pchar`: sub-delims, `:` and `@`.
fn is_raw_in_segment(byte: u8) -> bool {
    matches!(
        byte,
        b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b',' | b';' | b'=' | b':' | b'@'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn normalised(raw: &str) -> Result<String, PathError> {
        RequestPath::normalize(raw).map(|path| path.as_str().to_owned())
    }

    #[test]
    fn dot_segments_slashes_and_trailing_slashes_go() {
        for (raw, expected) in [
            ("/", "/"),
            ("//", "/"),
            ("/home/premium", "/home/premium"),
            ("/home/premium/", "/home/premium"),
            ("//home/premium", "/home/premium"),
            ("/home//premium//", "/home/premium"),
            ("/home/./premium/.", "/home/premium"),
            ("/home/../admin", "/admin"),
            ("/home/x/../../admin/", "/admin"),
            ("/a/b/..", "/a"),
            ("/a/..", "/"),
            ("/a/.../b", "/a/.../b"),
            ("/a/..b/.c", "/a/..b/.c"),
            ("/a/...;x/b;y", "/a/...;x/b;y"),
        ] {
            assert_eq!(normalised(raw).as_deref(), Ok(expected), "{raw}");
        }
    }

    #[test]
    fn encoded_dots_are_dots_and_unreserved_characters_are_decoded() {
        for (raw, expected) in [
            ("/home/%2e%2e/admin", "/admin"),
            ("/home/%2E%2e/admin", "/admin"),
            ("/home/.%2e/admin", "/admin"),
            ("/home/%2e/premium", "/home/premium"),
            ("/%68ome/%7Euser", "/home/~user"),
            ("/a%2db%5fc", "/a-b_c"),
            ("/caf%c3%a9", "/caf%C3%A9"),
            ("/a%3fb", "/a%3Fb"),
            ("/a%20b", "/a%20b"),
            ("/a%25b", "/a%25b"),
        ] {
            assert_eq!(normalised(raw).as_deref(), Ok(expected), "{raw}");
        }
    }

    #[test]
    fn characters_a_path_cannot_hold_raw_are_encoded() {
        for (raw, expected) in [
            ("/a b", "/a%20b"),
            ("/café", "/caf%C3%A9"),
            ("/a?b", "/a%3Fb"),
            ("/a#b", "/a%23b"),
            ("/a\"<>{|}^`[]", "/a%22%3C%3E%7B%7C%7D%5E%60%5B%5D"),
            ("/!$&'()*+,;=:@", "/!$&'()*+,;=:@"),
        ] {
            assert_eq!(normalised(raw).as_deref(), Ok(expected), "{raw}");
        }
    }

    #[test]
    fn unsafe_paths_are_errors() {
        for (raw, error) in [
            ("", PathError::NotAbsolute),
            ("*", PathError::NotAbsolute),
            ("home/premium", PathError::NotAbsolute),
            ("http://host/a", PathError::NotAbsolute),
            ("/a%2Fb", PathError::EncodedSeparator),
            ("/a%2fb", PathError::EncodedSeparator),
            ("/a%5Cb", PathError::EncodedSeparator),
            ("/a%5c..%5cb", PathError::EncodedSeparator),
            ("/..", PathError::AboveRoot),
            ("/a/../..", PathError::AboveRoot),
            ("/%2e%2e/etc", PathError::AboveRoot),
            ("/a%", PathError::InvalidEncoding),
            ("/a%2", PathError::InvalidEncoding),
            ("/a%zz", PathError::InvalidEncoding),
            ("/a%+1", PathError::InvalidEncoding),
            ("/a\\b", PathError::InvalidEncoding),
            ("/a\nb", PathError::InvalidEncoding),
            ("/a\u{7f}", PathError::InvalidEncoding),
            ("/a%00", PathError::InvalidEncoding),
            ("/a%0d%0a", PathError::InvalidEncoding),
            // Tomcat and Spring strip `;...` from segments: these would climb out of /public.
            ("/public/..;/admin", PathError::InvalidEncoding),
            ("/public/..;jsessionid=1/admin", PathError::InvalidEncoding),
            ("/public/%2e%2e;/admin", PathError::InvalidEncoding),
            ("/public/.;x/admin", PathError::InvalidEncoding),
        ] {
            assert_eq!(normalised(raw), Err(error), "{raw:?}");
        }
    }

    #[test]
    fn the_length_limit_is_on_the_raw_path() {
        let longest = format!("/{}", "a".repeat(RequestPath::MAX_LEN - 1));
        assert_eq!(normalised(&longest).unwrap().len(), RequestPath::MAX_LEN);
        let too_long = format!("{longest}a");
        assert_eq!(normalised(&too_long), Err(PathError::TooLong));
        let dots = "/.".repeat(RequestPath::MAX_LEN / 2);
        assert_eq!(normalised(&dots).as_deref(), Ok("/"));
        // Found by the request_path fuzz target: encoding raw characters grows a path past the
        // limit, and normalising the result again must not fail where the first pass did not.
        let grows = format!("/{}", "é".repeat(RequestPath::MAX_LEN / 3));
        assert_eq!(normalised(&grows), Err(PathError::TooLong));
        let fits = format!("/{}", "é".repeat(RequestPath::MAX_LEN / 6 - 1));
        let once = normalised(&fits).unwrap();
        assert_eq!(normalised(&once).as_deref(), Ok(once.as_str()));
    }

    #[test]
    fn normalising_twice_changes_nothing_and_segments_split_it() {
        for raw in ["/home/%2e%2e/admin", "/a%3fb/./c/", "/caf%c3%a9/x", "/"] {
            let once = RequestPath::normalize(raw).unwrap();
            assert_eq!(RequestPath::normalize(once.as_str()).as_ref(), Ok(&once));
        }
        let path = RequestPath::normalize("/a//b/").unwrap();
        assert_eq!(path.segments().collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(RequestPath::normalize("/").unwrap().segments().count(), 0);
        assert_eq!(path.to_string(), "/a/b");
    }
}
