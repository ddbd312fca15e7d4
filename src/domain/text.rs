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
        markdown_text(s, Self::MAX_CHARS, "Enter a message.", "message").map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The markdown of a postmortem: an update's rules, with room for the
/// whole story (a timeline, causes, what changes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostmortemBody(String);

impl PostmortemBody {
    pub const MAX_CHARS: usize = 60_000;

    pub fn parse(s: &str) -> Result<Self, ParseError> {
        markdown_text(s, Self::MAX_CHARS, "Write the postmortem.", "postmortem").map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Staff's Markdown, trimmed, with one kind of line ending; `what` names it
/// in the messages ("The message is too long").
fn markdown_text(s: &str, max: usize, empty: &str, what: &str) -> Result<String, ParseError> {
    // Browsers send CRLF; store one kind of line ending.
    let s = s.replace("\r\n", "\n");
    let trimmed = s.trim();
    if trimmed.is_empty() {
        return Err(ParseError::new(empty));
    }
    if trimmed.contains('\0') {
        return Err(ParseError::new(format!(
            "The {what} cannot contain NUL characters."
        )));
    }
    let n = trimmed.chars().count();
    if n > max {
        return Err(ParseError::new(format!(
            "The {what} is too long: {n} characters, {max} at most."
        )));
    }
    if let Some(n) = undescribed_image(trimmed) {
        return Err(ParseError::new(format!(
            "Image {n} has no description. Readers who cannot see it hear the description \
             instead: write ![what it shows](https://...), or alt=\"what it shows\" in an <img> tag."
        )));
    }
    Ok(trimmed.to_owned())
}

/// The number (from 1) of the first image in `markdown` without a text
/// alternative, written in Markdown (`![](url)`) or as raw `<img>`.
fn undescribed_image(markdown: &str) -> Option<usize> {
    use pulldown_cmark::{Event, Parser, Tag, TagEnd};
    let mut n = 0;
    // The text inside the Markdown image being read, if any.
    let mut alt: Option<String> = None;
    for event in Parser::new(markdown) {
        match event {
            Event::Start(Tag::Image { .. }) => {
                n += 1;
                alt = Some(String::new());
            }
            Event::End(TagEnd::Image) if alt.take().is_some_and(|a| a.trim().is_empty()) => {
                return Some(n);
            }
            Event::Text(t) | Event::Code(t) => {
                if let Some(a) = alt.as_mut() {
                    a.push_str(&t);
                }
            }
            Event::Html(h) | Event::InlineHtml(h) => {
                for tag in img_tags(&h) {
                    n += 1;
                    if !has_alt(tag) {
                        return Some(n);
                    }
                }
            }
            _ => {}
        }
    }
    None
}

/// The `<img ...>` tags in a piece of raw HTML, each up to its `>`.
fn img_tags(html: &str) -> impl Iterator<Item = &str> {
    let lower = html.to_ascii_lowercase();
    let starts: Vec<usize> = lower
        .match_indices("<img")
        .map(|(i, _)| i)
        .filter(|i| {
            lower[i + 4..]
                .chars()
                .next()
                .is_none_or(|c| c.is_ascii_whitespace() || c == '>' || c == '/')
        })
        .collect();
    starts.into_iter().map(move |i| {
        let end = html[i..].find('>').map_or(html.len(), |e| i + e + 1);
        &html[i..end]
    })
}

/// Whether an `<img>` tag has an `alt` with something in it.
fn has_alt(tag: &str) -> bool {
    let lower = tag.to_ascii_lowercase();
    lower.match_indices("alt").any(|(i, _)| {
        let before = lower[..i].chars().last();
        if !before.is_some_and(|c| c.is_ascii_whitespace()) {
            return false;
        }
        let rest = lower[i + 3..].trim_start();
        let Some(value) = rest.strip_prefix('=') else {
            return false;
        };
        let value = value.trim_start();
        let text = match value.chars().next() {
            Some(q @ ('"' | '\'')) => value[1..].split(q).next().unwrap_or(""),
            _ => value
                .split(|c: char| c.is_ascii_whitespace() || c == '>')
                .next()
                .unwrap_or(""),
        };
        !text.trim().is_empty()
    })
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

    #[test]
    fn every_image_is_described() {
        let refused = |md: &str| UpdateBody::parse(md).err().map(|e| e.to_string());
        assert!(refused("![The error rate, falling](https://example.com/a.png)").is_none());
        assert!(
            refused("<img src=\"https://example.com/a.png\" alt=\"The error rate\">").is_none()
        );
        assert!(refused("<IMG SRC=x ALT='graph'>").is_none());
        assert!(refused("`<img src=x>` is code, not an image").is_none());
        let e = refused("![ok](a.png) and ![](b.png)").unwrap();
        assert!(e.starts_with("Image 2 has no description"), "{e}");
        assert!(refused("<img src=x>").is_some());
        assert!(refused("text <img src=x alt=\"\"> more").is_some());
        assert!(refused("<p><img src=x data-alt=\"y\"></p>").is_some());
    }
}
