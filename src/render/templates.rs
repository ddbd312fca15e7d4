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
];

pub fn load() -> Result<Tera, tera::Error> {
    let mut tera = Tera::default();
    tera.add_raw_templates(TEMPLATES.iter().copied())?;
    // Subjects and plain-text mail bodies are not HTML: tera escapes only `.html`.
    tera.autoescape_on(vec![".html"]);
    Ok(tera)
}

#[cfg(test)]
mod tests {
    #[test]
    fn all_templates_parse() {
        super::load().unwrap();
    }
}
