use super::ParseError;

/// What an API token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenScope {
    /// List and get.
    Read,
    /// Also create, update and delete.
    Write,
}

impl TokenScope {
    pub const ALL: [TokenScope; 2] = [Self::Read, Self::Write];

    pub fn parse(s: &str) -> Result<Self, ParseError> {
        match s.trim() {
            "read" => Ok(Self::Read),
            "write" => Ok(Self::Write),
            other => Err(ParseError::new(format!(
                "Unknown scope \"{other}\": choose read or write."
            ))),
        }
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Write => "write",
        }
    }

    pub fn may_write(self) -> bool {
        self == Self::Write
    }
}

/// An API token's name: who or what uses it. The same rule for the admin form
/// and `statuspost token add`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenName(String);

impl TokenName {
    pub const MAX_CHARS: usize = 100;

    pub fn parse(s: &str) -> Result<Self, ParseError> {
        super::text::one_line_name(
            s,
            Self::MAX_CHARS,
            "Name the token after who or what uses it, e.g. \"deploy script\".",
        )
        .map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_round_trip() {
        for s in TokenScope::ALL {
            assert_eq!(TokenScope::parse(s.as_str()), Ok(s));
        }
        assert!(TokenScope::parse("admin").is_err());
        assert!(TokenScope::Write.may_write() && !TokenScope::Read.may_write());
    }

    #[test]
    fn name_rules() {
        assert!(TokenName::parse("  ").is_err());
        assert!(TokenName::parse(&"x".repeat(TokenName::MAX_CHARS + 1)).is_err());
        assert!(TokenName::parse("deploy\tscript").is_err());
        // Room around the name is not part of it, nor counted.
        let padded = format!("  {}  ", "x".repeat(TokenName::MAX_CHARS));
        assert_eq!(TokenName::parse(&padded).unwrap().as_str().len(), 100);
        assert_eq!(
            TokenName::parse(" deploy script ").unwrap().as_str(),
            "deploy script"
        );
    }
}
