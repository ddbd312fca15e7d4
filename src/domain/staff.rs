use super::ParseError;

/// The name shown under a staff member's posts, like "Shannon".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(ParseError::new("Enter a name."));
        }
        if s.chars().count() > 100 || s.chars().any(char::is_control) {
            return Err(ParseError::new(
                "A name is one line of 100 characters at most.",
            ));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A new password: long enough to resist guessing, short enough to hash cheaply.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    pub const MIN_CHARS: usize = 10;

    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let n = s.chars().count();
        if n < Self::MIN_CHARS {
            return Err(ParseError::new(format!(
                "The password must have at least {} characters.",
                Self::MIN_CHARS
            )));
        }
        if n > 1024 {
            return Err(ParseError::new("The password is too long."));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_passwords_are_refused() {
        assert!(Password::parse("short").is_err());
        assert!(Password::parse("long enough pass").is_ok());
        assert_eq!(
            format!("{:?}", Password::parse("long enough pass").unwrap()),
            "Password(***)"
        );
    }
}
