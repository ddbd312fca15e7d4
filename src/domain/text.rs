use super::ParseError;

/// An incident's title: one line, not empty, not absurdly long.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentTitle(String);

impl IncidentTitle {
    pub const MAX_CHARS: usize = 200;

    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(ParseError::new("Enter a title."));
        }
        if s.chars().count() > Self::MAX_CHARS {
            return Err(ParseError::new(format!(
                "The title is too long: {} characters at most.",
                Self::MAX_CHARS
            )));
        }
        if s.chars().any(char::is_control) {
            return Err(ParseError::new("The title must be a single line."));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The markdown body of an update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateBody(String);

impl UpdateBody {
    pub const MAX_CHARS: usize = 20_000;

    pub fn parse(s: &str) -> Result<Self, ParseError> {
        // Browsers send CRLF; store one kind of line ending.
        let s = s.replace("\r\n", "\n");
        let trimmed = s.trim();
        if trimmed.is_empty() {
            return Err(ParseError::new("Enter a message."));
        }
        if trimmed.contains('\0') {
            return Err(ParseError::new(
                "The message cannot contain NUL characters.",
            ));
        }
        let n = trimmed.chars().count();
        if n > Self::MAX_CHARS {
            return Err(ParseError::new(format!(
                "The message is too long: {n} characters, {} at most.",
                Self::MAX_CHARS
            )));
        }
        Ok(Self(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A name of one line, trimmed, not empty (`when_empty` says what to
/// enter) and at most `max` characters: components' and tokens' names.
pub(super) fn one_line_name(s: &str, max: usize, when_empty: &str) -> Result<String, ParseError> {
    let s = s.trim();
    if s.is_empty() {
        return Err(ParseError::new(when_empty));
    }
    if s.chars().count() > max || s.chars().any(char::is_control) {
        return Err(ParseError::new(format!(
            "A name is one line of {max} characters at most."
        )));
    }
    Ok(s.to_owned())
}

/// A component's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComponentName(String);

impl ComponentName {
    pub const MAX_CHARS: usize = 100;

    pub fn parse(s: &str) -> Result<Self, ParseError> {
        one_line_name(s, Self::MAX_CHARS, "Enter a name.").map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn title_rules() {
        assert!(IncidentTitle::parse("   ").is_err());
        assert!(IncidentTitle::parse(&"x".repeat(201)).is_err());
        assert!(IncidentTitle::parse("a\nb").is_err());
        assert_eq!(
            IncidentTitle::parse(" Live Site Issue: File Names ")
                .unwrap()
                .as_str(),
            "Live Site Issue: File Names"
        );
    }

    #[test]
    fn body_rules() {
        assert!(UpdateBody::parse("\n \n").is_err());
        assert!(UpdateBody::parse(&"x".repeat(UpdateBody::MAX_CHARS + 1)).is_err());
        assert_eq!(UpdateBody::parse("a\r\nb").unwrap().as_str(), "a\nb");
        assert!(UpdateBody::parse("a\0b").is_err());
    }
}
