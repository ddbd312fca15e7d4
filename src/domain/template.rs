//! Incident templates: what staff start an incident or an update from, and
//! the placeholders filled into them.
//!
//! Placeholders are filled by plain substitution of a fixed set of names,
//! never by a template engine: a template's text is staff's text, and
//! running it through one (Cachet's server-side template injection) would
//! hand it the engine's powers.
use super::{ComponentStatus, ParseError};

/// A template's name, as staff pick it from a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateName(String);

impl TemplateName {
    pub const MAX_CHARS: usize = 100;

    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(ParseError::new("Enter a name for the template."));
        }
        if s.chars().count() > Self::MAX_CHARS {
            return Err(ParseError::new(format!(
                "The name is too long: {} characters at most.",
                Self::MAX_CHARS
            )));
        }
        if s.chars().any(char::is_control) {
            return Err(ParseError::new("The name must be a single line."));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A template's title: may be empty (a template for updates needs none), and
/// may hold placeholders, so it is checked as a title only once filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateTitle(String);

impl TemplateTitle {
    pub const MAX_CHARS: usize = 200;

    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let s = s.trim();
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

/// The components a template sets, each with the status it gives.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ComponentPlan(pub Vec<(i32, ComponentStatus)>);

/// The names that are filled in, and what each stands for.
pub const PLACEHOLDERS: [(&str, &str); 4] = [
    (
        "{component}",
        "the names of the components the template sets",
    ),
    (
        "{start}",
        "the time the form was opened, in the page's zone",
    ),
    ("{page}", "the page's name"),
    (
        "{incident}",
        "the incident's title (in an update; empty in a new incident)",
    ),
];

/// What the placeholders stand for where a template is used.
#[derive(Debug, Clone, Default)]
pub struct Filling {
    pub component: String,
    pub start: String,
    pub page: String,
    pub incident: String,
}

impl Filling {
    fn value(&self, name: &str) -> Option<&str> {
        match name {
            "{component}" => Some(&self.component),
            "{start}" => Some(&self.start),
            "{page}" => Some(&self.page),
            "{incident}" => Some(&self.incident),
            _ => None,
        }
    }

    /// `text` with each known placeholder replaced, in one pass from left to
    /// right: what is filled in is never read again, so a component named
    /// `{page}` stays `{page}`. Anything else in braces is left as written.
    pub fn fill(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let from = &rest[open..];
            let known = PLACEHOLDERS
                .iter()
                .map(|(name, _)| *name)
                .find(|name| from.starts_with(name));
            match known.and_then(|name| Some((name, self.value(name)?))) {
                Some((name, value)) => {
                    out.push_str(value);
                    rest = &from[name.len()..];
                }
                None => {
                    out.push('{');
                    rest = &from[1..];
                }
            }
        }
        out.push_str(rest);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filling() -> Filling {
        Filling {
            component: "API, {page}".into(),
            start: "Dec 3, 2:37 PM UTC".into(),
            page: "Acme {{ 7*7 }}".into(),
            incident: String::new(),
        }
    }

    #[test]
    fn placeholders_are_replaced_once_and_nothing_else_is_touched() {
        let f = filling();
        assert_eq!(
            f.fill("{component} down since {start} on {page}."),
            "API, {page} down since Dec 3, 2:37 PM UTC on Acme {{ 7*7 }}."
        );
        // An engine's syntax is text like any other.
        assert_eq!(
            f.fill("{{ 7*7 }} {% raw %} {unknown} {incident}{"),
            "{{ 7*7 }} {% raw %} {unknown} {"
        );
        assert_eq!(f.fill("{{component}}"), "{API, {page}}");
    }

    #[test]
    fn names_and_titles() {
        assert!(TemplateName::parse(" ").is_err());
        assert!(TemplateTitle::parse("").is_ok());
    }
}
