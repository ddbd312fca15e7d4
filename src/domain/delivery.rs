use super::ParseError;

/// Where a delivery stands. A failed attempt that will be retried stays
/// `Pending` (with its error kept); "failed" is a reading, not a status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeliveryStatus {
    /// Due at its next attempt, or held by a worker while its lease lasts.
    Pending,
    Sent,
    /// Given up.
    Dead,
}

impl DeliveryStatus {
    pub const ALL: [DeliveryStatus; 3] = [Self::Pending, Self::Sent, Self::Dead];

    pub fn parse(s: &str) -> Result<Self, ParseError> {
        match s.trim() {
            "pending" => Ok(Self::Pending),
            "sent" => Ok(Self::Sent),
            "dead" => Ok(Self::Dead),
            other => Err(ParseError::new(format!(
                "Unknown delivery status \"{other}\": a delivery is pending, sent or dead."
            ))),
        }
    }

    // const: the store names these in the constants its SQL is written with.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Sent => "sent",
            Self::Dead => "dead",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip() {
        for s in DeliveryStatus::ALL {
            assert_eq!(DeliveryStatus::parse(s.as_str()), Ok(s));
        }
        assert!(DeliveryStatus::parse("failed").is_err());
    }
}
