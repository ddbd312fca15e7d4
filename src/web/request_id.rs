//! The id that ties a request's log lines together and that a client or a
//! proxy in front of us can quote back.
use actix_web::http::header::HeaderMap;

pub const HEADER: &str = "x-request-id";

/// An incoming id longer than this is replaced: it goes into every line the
/// request logs.
const MAX_LEN: usize = 64;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestId(String);

impl RequestId {
    /// The `X-Request-Id` a proxy or client sent, when it is one we can log
    /// as it is; else a new one. A hostile value (control characters, spaces,
    /// anything that could forge or split a log line) is never echoed.
    pub fn of(headers: &HeaderMap) -> Self {
        headers
            .get(HEADER)
            .and_then(|v| v.to_str().ok())
            .filter(|v| is_sane(v))
            .map_or_else(Self::new, |v| Self(v.to_owned()))
    }

    /// 128 random bits in hex: no two requests share one, even across instances.
    pub fn new() -> Self {
        Self(format!("{:032x}", rand::random::<u128>()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for RequestId {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Display for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn is_sane(id: &str) -> bool {
    (1..=MAX_LEN).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_short_plain_ids_are_kept() {
        assert!(is_sane("abc-123_x.y"));
        assert!(is_sane(&"a".repeat(64)));
        assert!(!is_sane(""));
        assert!(!is_sane(&"a".repeat(65)));
        assert!(!is_sane("a b"));
        assert!(!is_sane("a\tb"));
        assert!(!is_sane("a=b"));
        assert!(!is_sane("é"));
    }

    #[test]
    fn new_ids_are_sane_and_distinct() {
        let (a, b) = (RequestId::new(), RequestId::new());
        assert!(is_sane(a.as_str()), "{a}");
        assert_eq!(a.as_str().len(), 32);
        assert_ne!(a, b);
    }
}
