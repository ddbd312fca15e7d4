//! Subscribers as CSV: the staff export, and the import of subscribers moving
//! from another provider (`statuspost subscribers import FILE.csv`). An export
//! imports back as it is.
use std::collections::HashMap;

use sea_orm::DatabaseConnection;

use crate::domain::{EmailAddress, WebhookUrl};
use crate::render::time;
use crate::store::{
    self,
    subscribers::{ImportAs, ImportRow, Imported, SubscriberView},
};

/// Separates component names in the `components` column.
pub const COMPONENT_SEPARATOR: char = ';';

pub const EXPORT_HEADER: [&str; 7] = [
    "kind",
    "email",
    "webhook_url",
    "components",
    "status",
    "confirmed_at",
    "created_at",
];

/// A spreadsheet runs a cell starting with one of these as a formula; such a
/// cell is written with a leading apostrophe, which shows it as plain text.
const FORMULA_START: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

pub(crate) fn safe_cell(value: &str) -> String {
    if value.starts_with(FORMULA_START) {
        format!("'{value}")
    } else {
        value.to_owned()
    }
}

/// Undoes `safe_cell`, so an exported file imports back unchanged.
fn unescape_cell(value: &str) -> &str {
    match value.strip_prefix('\'') {
        Some(rest) if rest.starts_with(FORMULA_START) => rest,
        _ => value,
    }
}

/// The export: one header row, then one row per subscriber. Secrets are never exported.
pub fn export(subscribers: &[SubscriberView], component_names: &HashMap<i32, String>) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let utc = chrono_tz::UTC;
    let row_of = |s: &SubscriberView| -> Vec<String> {
        let names: Vec<&str> = s
            .components
            .iter()
            .filter_map(|id| component_names.get(id).map(String::as_str))
            .collect();
        vec![
            s.kind.as_str().to_owned(),
            s.model.email.clone(),
            s.model.webhook_url.clone().unwrap_or_default(),
            names.join(&format!("{COMPONENT_SEPARATOR} ")),
            s.state().to_owned(),
            s.model
                .confirmed_at
                .map(|t| time::iso(t, utc))
                .unwrap_or_default(),
            time::iso(s.model.created_at, utc),
        ]
    };
    // Writing to a Vec cannot fail.
    w.write_record(EXPORT_HEADER).expect("csv to memory");
    for s in subscribers {
        w.write_record(row_of(s).iter().map(|c| safe_cell(c)))
            .expect("csv to memory");
    }
    w.into_inner().expect("csv to memory")
}

#[derive(Debug, Default)]
pub struct ImportReport {
    /// New subscribers, by the state they were given.
    pub added_confirmed: usize,
    pub added_pending: usize,
    pub added_disabled: usize,
    pub added_unsubscribed: usize,
    /// Were waiting for confirmation (or disabled) and are now confirmed.
    pub confirmed: usize,
    /// Were already subscribed: left as they were.
    pub present: usize,
    /// Had unsubscribed here: left so.
    pub left_unsubscribed: usize,
    /// (line number in the file, what is wrong), for rows not imported.
    pub errors: Vec<(u64, String)>,
}

impl ImportReport {
    pub fn added(&self) -> usize {
        self.added_confirmed + self.added_pending + self.added_disabled + self.added_unsubscribed
    }
}

struct Columns {
    email: Option<usize>,
    webhook_url: Option<usize>,
    components: Option<usize>,
    secret: Option<usize>,
    status: Option<usize>,
}

fn columns(header: &csv::StringRecord) -> anyhow::Result<Columns> {
    let find = |name: &str| {
        header.iter().position(|h| {
            // A spreadsheet may start the file with a byte-order mark.
            h.trim_start_matches('\u{feff}')
                .trim()
                .eq_ignore_ascii_case(name)
        })
    };
    let cols = Columns {
        email: find("email"),
        webhook_url: find("webhook_url"),
        components: find("components"),
        secret: find("secret"),
        status: find("status"),
    };
    if cols.email.is_none() && cols.webhook_url.is_none() {
        anyhow::bail!(
            "line 1: the first row must name the columns, with email or webhook_url among them (and optionally components, secret, status)"
        );
    }
    Ok(cols)
}

/// Reads one row into what to import and the state its `status` cell names
/// (`None` when empty or absent), or says what is wrong with it.
fn parse_row(
    record: &csv::StringRecord,
    cols: &Columns,
    components_by_name: &HashMap<String, Vec<i32>>,
) -> Result<(ImportRow, Option<ImportAs>), String> {
    let cell = |i: Option<usize>| {
        i.and_then(|i| record.get(i))
            .map(|v| unescape_cell(v.trim()).trim())
            .unwrap_or("")
    };
    let (email, url, secret) = (cell(cols.email), cell(cols.webhook_url), cell(cols.secret));
    // Checked even under --confirm: a value we do not know (another provider's
    // "unsubscribed", say) must not be read as consent.
    let status = match cell(cols.status) {
        "" => None,
        s => Some(ImportAs::parse(s).ok_or_else(|| {
            format!("status: \"{s}\" is not one of confirmed, pending, disabled, unsubscribed")
        })?),
    };
    let mut components = Vec::new();
    for name in cell(cols.components)
        .split(COMPONENT_SEPARATOR)
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        match components_by_name.get(&name.to_lowercase()) {
            Some(ids) => components.extend(ids),
            None => {
                return Err(format!(
                    "components: there is no component named \"{name}\""
                ))
            }
        }
    }
    if !url.is_empty() {
        let url = WebhookUrl::parse(url).map_err(|e| format!("webhook_url: {e}"))?;
        if email.is_empty() {
            return Err(
                "email: a webhook needs the email address of a contact told of failures".into(),
            );
        }
        let contact = EmailAddress::parse(email).map_err(|e| format!("email: {e}"))?;
        let secret = match secret {
            "" => None,
            s if store::subscribers::is_valid_webhook_secret(s) => Some(s.to_owned()),
            _ => {
                return Err(
                    "secret: must be whsec_ followed by the base64 of 24 to 64 bytes".into(),
                )
            }
        };
        Ok((
            ImportRow::Webhook {
                url,
                contact,
                components,
                secret,
            },
            status,
        ))
    } else if !email.is_empty() {
        if !secret.is_empty() {
            return Err("secret: only a webhook (a row with a webhook_url) has a secret".into());
        }
        let email = EmailAddress::parse(email).map_err(|e| format!("email: {e}"))?;
        Ok((ImportRow::Email { email, components }, status))
    } else {
        Err("the row has neither an email nor a webhook_url".into())
    }
}

/// Imports every good row of a CSV file, and reports the others by line
/// number. Rows already subscribed are not added again. A row keeps the state
/// its `status` column names (so a restored export mails no one who had not
/// confirmed); without one it is confirmed, as files from other providers list
/// their confirmed subscribers. `confirm_all` confirms every row whatever it
/// says, but for `unsubscribed`: that is a refusal, never to be overridden.
pub async fn import(
    db: &DatabaseConnection,
    input: impl std::io::Read,
    confirm_all: bool,
) -> anyhow::Result<ImportReport> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::None)
        .from_reader(input);
    let cols = columns(reader.headers()?)?;
    let mut components_by_name: HashMap<String, Vec<i32>> = HashMap::new();
    for c in store::components::list(db).await? {
        components_by_name
            .entry(c.model.name.to_lowercase())
            .or_default()
            .push(c.model.id);
    }
    let mut report = ImportReport::default();
    let mut record = csv::StringRecord::new();
    loop {
        let line = reader.position().line();
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) if matches!(e.kind(), csv::ErrorKind::Io(_)) => return Err(e.into()),
            Err(e) => {
                let at = e.position().map(|p| p.line()).unwrap_or(line);
                report.errors.push((at, format!("unreadable row: {e}")));
                // A broken row (bad UTF-8, say) does not stop the rest.
                continue;
            }
        }
        let line = record.position().map(|p| p.line()).unwrap_or(line);
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        match parse_row(&record, &cols, &components_by_name) {
            Ok((row, status)) => {
                let as_ = match status {
                    Some(s) if !confirm_all || s == ImportAs::Unsubscribed => s,
                    _ => ImportAs::Confirmed,
                };
                match store::subscribers::import(db, row, as_).await? {
                    Imported::Added => match as_ {
                        ImportAs::Confirmed => report.added_confirmed += 1,
                        ImportAs::Pending => report.added_pending += 1,
                        ImportAs::Disabled => report.added_disabled += 1,
                        ImportAs::Unsubscribed => report.added_unsubscribed += 1,
                    },
                    Imported::Confirmed => report.confirmed += 1,
                    Imported::AlreadyPresent => report.present += 1,
                    Imported::LeftUnsubscribed => report.left_unsubscribed += 1,
                }
            }
            Err(message) => report.errors.push((line, message)),
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_defused_and_restored() {
        for v in ["=HYPERLINK(\"x\")", "+1", "-2", "@SUM(A1)", "\tx", "\rx"] {
            let safe = safe_cell(v);
            assert!(safe.starts_with('\''), "{v:?}");
            assert_eq!(unescape_cell(&safe), v);
        }
        assert_eq!(safe_cell("a@example.com"), "a@example.com");
        assert_eq!(unescape_cell("'quoted"), "'quoted");
    }
}
