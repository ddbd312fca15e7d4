//! Fuzzes the Markdown renderer that turns staff Markdown into the HTML readers get.
//!
//! For any UTF-8 input of at most 64 KiB:
//! - rendering does not panic (and finishes within libFuzzer's `-timeout=`);
//! - the output has no `<script`, no `on...=` event-handler attribute, and no URL attribute
//!   (`href`, `src`, ...) whose scheme is anything but http, https or mailto (so no `javascript:`);
//! - sanitising the output again changes nothing: `sanitize(&out) == out`, so a browser parses
//!   the output into the tree the cleaner wrote (no mutation-XSS shape). Two inputs the fuzzer
//!   found where it did not hold are in fuzz/regressions/markdown/.
//!
//! The same safety checks hold for the input sanitised directly as HTML, since raw HTML in
//! Markdown reaches the same cleaner.
//!
//! Run from the repository root (`.ci/run` does):
//! `cargo +nightly fuzz run markdown fuzz/corpus/markdown fuzz/seeds -- -max_total_time=60 -timeout=5 -max_len=65536`
#![no_main]

use libfuzzer_sys::fuzz_target;

/// The real renderer, compiled from the app's own source file: it uses only pulldown-cmark,
/// ammonia and std, so this crate needs nothing else from the app.
#[allow(dead_code)]
#[path = "../../src/render/markdown.rs"]
mod markdown;

const MAX_INPUT: usize = 64 * 1024;

/// Attributes whose value a browser follows or loads as a URL.
const URL_ATTRIBUTES: &[&str] = &[
    "href",
    "src",
    "cite",
    "action",
    "formaction",
    "poster",
    "background",
    "longdesc",
    "usemap",
    "srcset",
    "xlink:href",
    "data",
    "codebase",
    "manifest",
    "ping",
];

const ALLOWED_SCHEMES: &[&str] = &["http", "https", "mailto"];

/// Sanitising the output again changes nothing: a reader's browser parses it into the tree
/// it was written from.
fn again_checked(input: &str, out: &str) -> String {
    let again = markdown::sanitize(out);
    assert!(
        again == out,
        "sanitize is not idempotent\ninput: {input:?}\nout:   {out:?}\nagain: {again:?}"
    );
    again
}

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    if input.len() > MAX_INPUT {
        return;
    }

    let out = markdown::to_safe_html(input);
    check_safe(input, &out);
    check_safe(input, &again_checked(input, &out));

    // The app never sanitizes unbounded HTML itself (its depth bound is in to_safe_html), so
    // the cleaner alone is checked on inputs small enough not to time out on nesting.
    if input.len() <= 4096 {
        let direct = markdown::sanitize(input);
        check_safe(input, &direct);
    }
});

/// Panics unless `html` is safe; returns its start tags, each as `name attr="value"...` with
/// the attributes sorted.
fn check_safe(input: &str, html: &str) -> Vec<String> {
    match start_tags(html) {
        Ok(tags) => tags,
        Err(why) => panic!("{why}\ninput:  {input:?}\noutput: {html:?}"),
    }
}

/// Ammonia's serialiser (html5ever) escapes `<` and `>` in text and in attribute values and
/// always double-quotes values, so every `<` starts a tag that ends at the next `>`.
fn start_tags(html: &str) -> Result<Vec<String>, String> {
    if html.to_ascii_lowercase().contains("<script") {
        return Err("output contains <script".into());
    }
    let mut tags = Vec::new();
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        let after = &rest[lt + 1..];
        let Some(gt) = after.find('>') else {
            return Err("a '<' with no closing '>'".into());
        };
        let tag = &after[..gt];
        rest = &after[gt + 1..];
        if tag.starts_with('/') {
            continue;
        }
        let (name, mut attrs) = tag.split_once([' ', '\t', '\n']).unwrap_or((tag, ""));
        if name.eq_ignore_ascii_case("script") {
            return Err("a script element".into());
        }
        let mut seen = Vec::new();
        loop {
            attrs = attrs.trim_start();
            if attrs.is_empty() {
                break;
            }
            let name_end = attrs.find(['=', ' ', '\t', '\n']).unwrap_or(attrs.len());
            let attr = attrs[..name_end].to_ascii_lowercase();
            attrs = &attrs[name_end..];
            let value = if let Some(v) = attrs.strip_prefix("=\"") {
                let Some(q) = v.find('"') else {
                    return Err("an attribute value with no closing quote".into());
                };
                attrs = &v[q + 1..];
                decode(&v[..q])
            } else {
                String::new()
            };
            if attr.starts_with("on") {
                return Err(format!("event-handler attribute {attr}"));
            }
            if URL_ATTRIBUTES.contains(&attr.as_str()) {
                check_url(&attr, &value)?;
            }
            seen.push(format!("{attr}={value:?}"));
        }
        seen.sort_unstable();
        tags.push(format!("{} {}", name.to_ascii_lowercase(), seen.join(" ")));
    }
    Ok(tags)
}

/// A URL attribute is relative or has an allowed scheme, compared the way a browser reads it:
/// leading and trailing spaces and controls ignored, tabs and newlines removed, any case.
fn check_url(attr: &str, value: &str) -> Result<(), String> {
    let url: String = value
        .trim_matches(|c: char| c <= ' ')
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect::<String>()
        .to_ascii_lowercase();
    if url.starts_with("javascript:") {
        return Err(format!("javascript: in {attr}"));
    }
    if let Some(i) = url.find([':', '/', '?', '#']) {
        let scheme = &url[..i];
        let is_scheme = url[i..].starts_with(':')
            && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
        if is_scheme && !ALLOWED_SCHEMES.contains(&scheme) {
            return Err(format!("scheme {scheme}: in {attr}"));
        }
    }
    Ok(())
}

/// The only character references html5ever writes in attribute values.
fn decode(v: &str) -> String {
    v.replace("&quot;", "\"")
        .replace("&nbsp;", "\u{a0}")
        .replace("&amp;", "&")
}
