//! Staff write markdown; readers get sanitized HTML.
use std::sync::LazyLock;

use pulldown_cmark::{html, Options, Parser};

static CLEANER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut b = ammonia::Builder::default();
    // Only schemes a reader can safely follow: no javascript:, no data:.
    b.url_schemes(["http", "https", "mailto"].into_iter().collect())
        .link_rel(Some("noopener noreferrer nofollow"));
    b
});

/// Renders markdown to HTML that is safe to embed in a page or an email.
pub fn to_safe_html(markdown: &str) -> String {
    let opts = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    let mut raw = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut raw, Parser::new_ext(markdown, opts));
    CLEANER.clean(&raw).to_string()
}

/// The sanitising pass of [`to_safe_html`] alone, on HTML that is already rendered.
pub fn sanitize(html: &str) -> String {
    CLEANER.clean(html).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_markdown() {
        let h = to_safe_html("**bold** and [link](https://example.com)");
        assert!(h.contains("<strong>bold</strong>"));
        assert!(h.contains("href=\"https://example.com\""));
    }

    #[test]
    fn nothing_dangerous_survives() {
        for evil in [
            "<script>alert(1)</script>",
            "<img src=x onerror=alert(1)>",
            "[x](javascript:alert(1))",
            "[x](JaVaScRiPt:alert(1))",
            "[x](data:text/html;base64,PHNjcmlwdD4=)",
            "<a href=\"javascript:alert(1)\">x</a>",
            "<iframe src=\"https://evil\"></iframe>",
            "<div onclick=\"alert(1)\">x</div>",
            "<svg><script>alert(1)</script></svg>",
            "<style>body{display:none}</style>",
        ] {
            let h = to_safe_html(evil).to_ascii_lowercase();
            for bad in [
                "<script",
                "onerror",
                "onclick",
                "javascript:",
                "data:",
                "<iframe",
                "<style",
            ] {
                assert!(!h.contains(bad), "{evil:?} rendered as {h:?}");
            }
        }
    }
}
