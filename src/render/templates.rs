//! Templates are compiled into the binary so it runs from any folder.
use tera::Tera;

macro_rules! embedded {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/templates/", $name)))),*]
    };
}

const TEMPLATES: &[(&str, &str)] = embedded![
    "base.html",
    "macros.html",
    "error.html",
    "public/index.html",
    "public/incident.html",
    "public/history.html",
    "admin/base.html",
    "admin/login.html",
    "admin/setup.html",
    "admin/incidents.html",
    "admin/new_incident.html",
    "admin/update_fields.html",
    "admin/incident.html",
    "admin/components.html",
    "admin/staff.html",
    "public/subscribe.html",
    "public/subscribe_sent.html",
    "public/subscribe_webhook.html",
    "public/subscribe_confirm.html",
    "public/unsubscribe.html",
    "admin/subscribers.html",
    "email/confirm.subject.txt",
    "email/confirm.txt",
    "email/confirm.html",
    "admin/tokens.html",
    "admin/deliveries.html",
    "email/incident_update.subject.txt",
    "email/incident_update.txt",
    "email/incident_update.html",
    "email/component_update.subject.txt",
    "email/component_update.txt",
    "email/component_update.html",
    "email/endpoint_disabled.subject.txt",
    "email/endpoint_disabled.txt",
    "email/endpoint_disabled.html",
];

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
