use super::ParseError;

/// Where a webhook subscriber wants its notifications POSTed.
///
/// Only the URL's form is checked here. Whether its host may be reached (no
/// loopback or private addresses) is decided at every delivery, after DNS
/// resolution, by `notify::ssrf`: a name that is harmless today may resolve to
/// an internal address tomorrow. The subscription forms also ask `ssrf` once,
/// so that a URL refused today is refused at once rather than at delivery.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WebhookUrl(url::Url);

impl WebhookUrl {
    pub const MAX_CHARS: usize = 2000;

    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(ParseError::new("Enter a webhook URL."));
        }
        if s.chars().count() > Self::MAX_CHARS {
            return Err(ParseError::new(format!(
                "The webhook URL is too long: {} characters at most.",
                Self::MAX_CHARS
            )));
        }
        let err = || ParseError::new("Enter a URL like https://example.com/webhooks/status.");
        // The URL parser would quietly drop or encode these; refuse them instead.
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(err());
        }
        let lower = s.to_ascii_lowercase();
        let rest = ["https://", "http://"]
            .iter()
            .find_map(|p| lower.strip_prefix(p))
            .ok_or_else(|| {
                ParseError::new("The webhook URL must start with https:// or http://.")
            })?;
        // The URL parser repairs "https:///host" and "https:\\host"; a URL
        // that needs repairs is not one to store.
        if rest.starts_with(['/', '\\']) {
            return Err(err());
        }
        let url = url::Url::parse(s).map_err(|_| err())?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(err());
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(err());
        }
        // Credentials would be stored, listed and exported in clear: a receiver
        // authenticates us by the signature instead.
        if !url.username().is_empty() || url.password().is_some() {
            return Err(ParseError::new(
                "The webhook URL must not contain a user name or password; requests are signed instead.",
            ));
        }
        if url.as_str().len() > Self::MAX_CHARS {
            return Err(err());
        }
        Ok(Self(url))
    }

    /// The URL in its normalised form, as stored.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    pub fn as_url(&self) -> &url::Url {
        &self.0
    }
}

impl std::fmt::Display for WebhookUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_http_and_https_urls() {
        assert_eq!(
            WebhookUrl::parse(" https://Hooks.Example.com/status?x=1 ")
                .unwrap()
                .as_str(),
            "https://hooks.example.com/status?x=1"
        );
        assert_eq!(
            WebhookUrl::parse("http://127.0.0.1:8080").unwrap().as_str(),
            "http://127.0.0.1:8080/"
        );
        assert!(WebhookUrl::parse("http://[::1]:9/hook").is_ok());
    }

    #[test]
    fn refuses_other_schemes_credentials_and_junk() {
        let long = format!("https://example.com/{}", "a".repeat(WebhookUrl::MAX_CHARS));
        for bad in [
            "",
            "example.com/hook",
            "ftp://example.com/hook",
            "file:///etc/passwd",
            "javascript:alert(1)",
            "gopher://example.com/",
            "https://user:pass@example.com/hook",
            "https://user@example.com/hook",
            "https://exa mple.com/hook",
            "https://example.com/ho\r\nok",
            "https:///hook",
            "https:\\\\evil.example/",
            "https://\\evil.example/",
            "http://",
            long.as_str(),
        ] {
            assert!(WebhookUrl::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
