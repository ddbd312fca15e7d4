use super::ParseError;

/// How a subscriber hears of updates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SubscriberKind {
    Email,
    Webhook,
}

impl SubscriberKind {
    pub const ALL: [SubscriberKind; 2] = [Self::Email, Self::Webhook];

    pub fn parse(s: &str) -> Result<Self, ParseError> {
        match s.trim() {
            "email" => Ok(Self::Email),
            "webhook" => Ok(Self::Webhook),
            other => Err(ParseError::new(format!(
                "Unknown subscriber kind \"{other}\": a subscriber is email or webhook."
            ))),
        }
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Webhook => "webhook",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip() {
        for k in SubscriberKind::ALL {
            assert_eq!(SubscriberKind::parse(k.as_str()), Ok(k));
        }
        let e = SubscriberKind::parse("pigeon").unwrap_err();
        assert!(
            e.0.contains("\"pigeon\"") && e.0.contains("email or webhook"),
            "{e}"
        );
    }
}
