//! Staff write markdown; readers get sanitized HTML.
//!
//! Rendering is bounded so that no input, however hostile, makes it slow: the
//! sanitizer's HTML parser costs the square of nesting depth (20,000 nested
//! `>` took over a second), so containers deeper than `MAX_DEPTH` are flattened,
//! raw HTML that nests deeper is shown as text, and input past `MAX_INPUT_BYTES`
//! is not rendered at all. This file uses only std, pulldown-cmark and ammonia,
//! so the fuzz target (`fuzz/`) builds it on its own.
use std::sync::LazyLock;

use pulldown_cmark::{html, Event, Options, Parser, Tag};

/// Deeper nesting than any real post uses; html5ever is fast well past it.
pub const MAX_DEPTH: usize = 32;

/// Four bytes for each of an update's 20,000 characters, with room to spare.
pub const MAX_INPUT_BYTES: usize = 128 * 1024;

static CLEANER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut b = ammonia::Builder::default();
    // Only schemes a reader can safely follow: no javascript:, no data:.
    b.url_schemes(["http", "https", "mailto"].into_iter().collect())
        .link_rel(Some("noopener noreferrer nofollow"));
    // `cite` is a URL no scheme filter looks at; readers never see it anyway.
    for tag in ["blockquote", "q", "del", "ins"] {
        b.rm_tag_attributes(tag, &["cite"]);
    }
    b
});

/// Renders markdown to HTML that is safe to embed in a page or an email.
pub fn to_safe_html(markdown: &str) -> String {
    if markdown.len() > MAX_INPUT_BYTES {
        return "<p>(This message is too long to show.)</p>".to_owned();
    }
    let mut raw = render(markdown, true);
    if html_depth(&raw) > MAX_DEPTH {
        // Markdown containers are capped already, so what nests this deep is
        // raw HTML: show it as text.
        raw = render(markdown, false);
    }
    settled(sanitize(&raw))
}

/// Sanitized HTML that a browser parses back into the same tree. ammonia can
/// write elements the HTML parser nests differently on the next parse (a link
/// inside a link, made by foster parenting: `<a>\n<table><a>`); such a
/// mismatch is what mutation XSS is built from, so sanitize again until the
/// output no longer changes. Real posts settle at once; the fuzzer's cases in two.
fn settled(mut html: String) -> String {
    for _ in 0..4 {
        let again = sanitize(&html);
        if again == html {
            return html;
        }
        html = again;
    }
    // Still moving: plain text cannot be reparsed into anything.
    format!("<p>{}</p>", ammonia::clean_text(&html))
}

/// The sanitizer alone: what `to_safe_html` applies to rendered markdown.
pub fn sanitize(html: &str) -> String {
    CLEANER.clean(html).to_string()
}

fn render(markdown: &str, allow_html: bool) -> String {
    let opts = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    let mut raw = String::with_capacity(markdown.len() * 3 / 2);
    // Whether each open container was kept, so its end is kept or dropped with it.
    let mut open: Vec<bool> = Vec::new();
    let mut kept = 0usize;
    let events = Parser::new_ext(markdown, opts).filter_map(|event| match event {
        Event::Start(tag) => {
            let keep = kept < MAX_DEPTH || !flattenable(&tag);
            open.push(keep);
            if keep {
                kept += 1;
                Some(Event::Start(tag))
            } else {
                None
            }
        }
        Event::End(end) => {
            if open.pop().unwrap_or(true) {
                kept = kept.saturating_sub(1);
                Some(Event::End(end))
            } else {
                None
            }
        }
        Event::Html(h) | Event::InlineHtml(h) if !allow_html => Some(Event::Text(h)),
        other => Some(other),
    });
    html::push_html(&mut raw, events);
    raw
}

/// Tags whose start and end may be dropped without breaking the structure the
/// HTML writer expects: table parts must stay whole, and tables cannot nest
/// past the depth at which they would be flattened anyway.
fn flattenable(tag: &Tag<'_>) -> bool {
    !matches!(
        tag,
        Tag::Table(_) | Tag::TableHead | Tag::TableRow | Tag::TableCell
    )
}

/// A cheap upper bound of how deep the elements of `html` nest: every start tag
/// that is not void or self-closed opens a level, every end tag closes one.
fn html_depth(html: &str) -> usize {
    const VOID: [&str; 14] = [
        "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
        "source", "track", "wbr",
    ];
    let (mut depth, mut max) = (0usize, 0usize);
    let bytes = html.as_bytes();
    let mut i = 0;
    while let Some(off) = html[i..].find('<') {
        let start = i + off + 1;
        i = start;
        let closing = bytes.get(start) == Some(&b'/');
        let name_at = if closing { start + 1 } else { start };
        let name_len = bytes[name_at..]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric())
            .count();
        if name_len == 0 || !bytes[name_at].is_ascii_alphabetic() {
            continue;
        }
        let name = &html[name_at..name_at + name_len];
        if closing {
            depth = depth.saturating_sub(1);
            continue;
        }
        let self_closed = html[name_at..]
            .find('>')
            .is_some_and(|end| html[..name_at + end].ends_with('/'));
        if !VOID.iter().any(|v| v.eq_ignore_ascii_case(name)) && !self_closed {
            depth += 1;
            max = max.max(depth);
        }
    }
    max
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
            "<blockquote cite=\"javascript:alert(1)\">x</blockquote>",
            "<q cite=\"javascript:alert(1)\">x</q>",
            "<del cite=\"javascript:alert(1)\">x</del>",
            "<ins cite=\"javascript:alert(1)\">x</ins>",
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
                "cite=",
            ] {
                assert!(!h.contains(bad), "{evil:?} rendered as {h:?}");
            }
        }
    }

    #[test]
    fn deep_nesting_is_flattened_not_lost() {
        let quotes = format!("{} deep", ">".repeat(20_000));
        let h = to_safe_html(&quotes);
        assert!(h.contains("deep"));
        assert_eq!(h.matches("<blockquote>").count(), MAX_DEPTH);

        let divs = format!("{}inside", "<div>".repeat(20_000));
        let h = to_safe_html(&divs);
        assert!(h.contains("inside"));
        assert!(!h.contains("<div>"), "deep raw HTML is shown as text");
        assert!(h.contains("&lt;div&gt;"));

        // Shallow raw HTML and ordinary nesting are untouched.
        let h = to_safe_html("> > quoted <b>bold</b>\n\n- a\n  - b");
        assert_eq!(h.matches("<blockquote>").count(), 2);
        assert!(h.contains("<b>bold</b>"));
        assert_eq!(h.matches("<ul>").count(), 2);
    }

    #[test]
    fn tables_survive_deep_nesting() {
        let prefix = "> ".repeat(MAX_DEPTH + 3);
        let md = format!("{prefix}| a | b |\n{prefix}|---|---|\n{prefix}| 1 | 2 |\n");
        let h = to_safe_html(&md);
        assert!(h.contains("<table>") && h.contains("<td>2</td>"), "{h}");
    }

    #[test]
    fn oversized_input_is_not_rendered() {
        let h = to_safe_html(&"x ".repeat(MAX_INPUT_BYTES));
        assert!(h.contains("too long"));
    }

    #[test]
    fn sanitizing_is_idempotent() {
        for md in [
            "<q cite=x>a</q> *b*",
            "<a href=\"https://x\">l</a>",
            "> q\n\n|a|\n|-|\n|b|",
        ] {
            let once = to_safe_html(md);
            assert_eq!(sanitize(&once), once, "{md:?}");
        }
    }

    #[test]
    fn output_is_a_fixed_point_of_the_sanitizer() {
        for md in [
            "<a>\n<table><a>",
            "<a>\n<table><b><a>",
            "<a href=\"https://x\">\n<table><a>y",
        ] {
            let out = to_safe_html(md);
            assert_eq!(sanitize(&out), out, "{md:?}");
        }
    }

    #[test]
    fn depth_estimate() {
        assert_eq!(html_depth("<p>a<br>b<img src=x/></p>"), 1);
        assert_eq!(html_depth("<div><div></div></div>"), 2);
        assert_eq!(html_depth("a < b and 1<2"), 0);
    }
}
