use super::ParseError;

/// An IANA time zone a page or a reader may display times in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageZone(chrono_tz::Tz);

impl PageZone {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        s.trim().parse::<chrono_tz::Tz>().map(Self).map_err(|_| {
            ParseError::new(format!(
                "Unknown time zone \"{s}\": use an IANA name such as America/New_York."
            ))
        })
    }

    pub fn tz(self) -> chrono_tz::Tz {
        self.0
    }

    pub fn name(self) -> &'static str {
        self.0.name()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iana_names_only() {
        assert_eq!(
            PageZone::parse("America/New_York").unwrap().name(),
            "America/New_York"
        );
        assert!(PageZone::parse("Mars/Olympus").is_err());
    }
}
