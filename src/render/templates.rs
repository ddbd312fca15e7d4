//! Templates are compiled into the binary so it runs from any folder.
use tera::Tera;

/// Every file under `templates/`, by its path there (listed by `build.rs`).
const TEMPLATES: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/templates.rs"));

pub fn load() -> Result<Tera, tera::Error> {
    let mut tera = Tera::default();
    tera.add_raw_templates(TEMPLATES.iter().copied())?;
    // Subjects and plain-text mail bodies are not HTML: tera escapes only `.html`.
    tera.autoescape_on(vec![".html"]);
    tera.set_escape_fn(escape_html);
    Ok(tera)
}

/// Escapes what can break out of HTML text or a quoted attribute. Unlike tera's
/// default it leaves `/` alone, so URLs and zone names read as they are.
pub fn escape_html(input: &str) -> String {
    let mut out = String::with_capacity(input.len() + input.len() / 8);
    for c in input.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn all_templates_parse() {
        super::load().unwrap();
    }

    #[test]
    fn escaping_covers_attribute_breakouts() {
        assert_eq!(
            super::escape_html("<a href=\"x\" onclick='y'>&</a>"),
            "&lt;a href=&quot;x&quot; onclick=&#x27;y&#x27;&gt;&amp;&lt;/a&gt;"
        );
        assert_eq!(super::escape_html("Europe/Berlin"), "Europe/Berlin");
    }
}
