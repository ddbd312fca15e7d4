use super::ParseError;

/// An email address we are willing to store and send to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let s = s.trim();
        let err = || ParseError::new("Enter an email address like name@example.com.");
        if s.len() > 254 || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(err());
        }
        // Characters that could break out of a header or an address list.
        if s.contains(['<', '>', ',', ';', '"', '\\', '(', ')']) {
            return Err(err());
        }
        let (local, domain) = s.rsplit_once('@').ok_or_else(err)?;
        if local.is_empty() || local.contains('@') || domain.len() < 3 || !domain.contains('.') {
            return Err(err());
        }
        if domain.starts_with('.') || domain.ends_with('.') || domain.contains("..") {
            return Err(err());
        }
        // Domains are case-insensitive; keep the local part as typed.
        Ok(Self(format!("{local}@{}", domain.to_ascii_lowercase())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_addresses() {
        assert_eq!(
            EmailAddress::parse(" Shannon@Example.COM ")
                .unwrap()
                .as_str(),
            "Shannon@example.com"
        );
    }

    #[test]
    fn refuses_header_injection_and_junk() {
        for bad in [
            "",
            "no-at-sign",
            "a@b",
            "a@@b.com",
            "a@b.com\r\nBcc: x@y.com",
            "a b@c.com",
            "<a@b.com>",
            "a@.com",
        ] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
