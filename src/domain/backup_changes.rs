//! What changed between two backups, told from a digest of each row of the
//! tables people change (incidents, updates, components, subscribers, staff,
//! tokens), and whether the change looks like an accident: a backup taken
//! after rows were removed or rewritten in bulk stands out.
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A table whose changes a backup's summary tells.
pub struct Tracked {
    pub table: &'static str,
    pub one: &'static str,
    pub many: &'static str,
    /// Columns the program itself moves (a token's last use): a change there
    /// is no one's edit.
    pub ignore: &'static [&'static str],
    /// Edits here are normal work (subscribers confirm, tokens are revoked):
    /// only removals can be unusual.
    pub edits_are_routine: bool,
}

pub const TRACKED: [Tracked; 6] = [
    Tracked {
        table: "incidents",
        one: "incident",
        many: "incidents",
        ignore: &["reminded_at"],
        edits_are_routine: false,
    },
    Tracked {
        table: "incident_updates",
        one: "update",
        many: "updates",
        ignore: &[],
        edits_are_routine: false,
    },
    Tracked {
        table: "components",
        one: "component",
        many: "components",
        ignore: &[],
        edits_are_routine: true,
    },
    Tracked {
        table: "subscribers",
        one: "subscriber",
        many: "subscribers",
        ignore: &["failing_since"],
        edits_are_routine: true,
    },
    Tracked {
        table: "staff",
        one: "staff account",
        many: "staff accounts",
        ignore: &[],
        edits_are_routine: true,
    },
    Tracked {
        table: "api_tokens",
        one: "API token",
        many: "API tokens",
        ignore: &["last_used_at"],
        edits_are_routine: true,
    },
];

/// Each tracked table's rows: id to a digest of the row.
pub type RowDigests = BTreeMap<String, BTreeMap<i64, u64>>;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableChange {
    pub table: String,
    pub before: u64,
    pub added: u64,
    pub edited: u64,
    pub removed: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Changes {
    pub tables: Vec<TableChange>,
}

impl Changes {
    /// From the rows of the backup before to the rows of this one.
    pub fn between(before: &RowDigests, after: &RowDigests) -> Self {
        let empty = BTreeMap::new();
        let tables = TRACKED
            .iter()
            .map(|t| {
                let b = before.get(t.table).unwrap_or(&empty);
                let a = after.get(t.table).unwrap_or(&empty);
                let mut c = TableChange {
                    table: t.table.to_owned(),
                    before: b.len() as u64,
                    ..Default::default()
                };
                for (id, digest) in a {
                    match b.get(id) {
                        None => c.added += 1,
                        Some(d) if d != digest => c.edited += 1,
                        Some(_) => {}
                    }
                }
                c.removed = b.keys().filter(|id| !a.contains_key(id)).count() as u64;
                c
            })
            .collect();
        Self { tables }
    }

    /// "1 incident added, 3 updates edited", or "no changes".
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        for c in &self.tables {
            let Some(t) = tracked(&c.table) else { continue };
            for (n, what) in [
                (c.added, "added"),
                (c.edited, "edited"),
                (c.removed, "removed"),
            ] {
                if n > 0 {
                    parts.push(format!(
                        "{n} {} {what}",
                        if n == 1 { t.one } else { t.many }
                    ));
                }
            }
        }
        if parts.is_empty() {
            "no changes".to_owned()
        } else {
            parts.join(", ")
        }
    }

    /// Why this change may be a mistake to restore past, if it may: incidents,
    /// updates, components or staff removed; a tenth of the subscribers (at
    /// least 5) or any token removed; half the incidents or updates (at least
    /// 5) edited at once.
    pub fn unusual(&self) -> Vec<String> {
        let mut why = Vec::new();
        for c in &self.tables {
            let Some(t) = tracked(&c.table) else { continue };
            let removals_allowed = if t.table == "subscribers" {
                (c.before / 10).max(5) - 1
            } else {
                0
            };
            if c.removed > removals_allowed {
                why.push(format!("{} of {} {} removed", c.removed, c.before, t.many));
            }
            if !t.edits_are_routine && c.edited >= (c.before / 2).max(5) {
                why.push(format!("{} of {} {} edited", c.edited, c.before, t.many));
            }
        }
        why
    }
}

fn tracked(table: &str) -> Option<&'static Tracked> {
    TRACKED.iter().find(|t| t.table == table)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(table: &str, pairs: &[(i64, u64)]) -> RowDigests {
        BTreeMap::from([(table.to_owned(), pairs.iter().copied().collect())])
    }

    #[test]
    fn counts_rows_added_edited_and_removed() {
        let before = rows("incidents", &[(1, 10), (2, 20), (3, 30)]);
        let after = rows("incidents", &[(1, 10), (2, 21), (4, 40)]);
        let c = Changes::between(&before, &after);
        assert_eq!(
            c.describe(),
            "1 incident added, 1 incident edited, 1 incident removed"
        );
        assert_eq!(c.unusual(), vec!["1 of 3 incidents removed"]);
        assert_eq!(Changes::between(&after, &after).describe(), "no changes");
        assert!(Changes::between(&after, &after).unusual().is_empty());
    }

    #[test]
    fn a_few_subscribers_leaving_is_routine_many_is_not() {
        let many: Vec<(i64, u64)> = (0..100).map(|i| (i, 1)).collect();
        let before = rows("subscribers", &many);
        let after = rows("subscribers", &many[9..]);
        assert!(Changes::between(&before, &after).unusual().is_empty());
        let after = rows("subscribers", &many[10..]);
        assert_eq!(
            Changes::between(&before, &after).unusual(),
            vec!["10 of 100 subscribers removed"]
        );
    }

    #[test]
    fn updates_rewritten_in_bulk_stand_out() {
        let before = rows(
            "incident_updates",
            &[(1, 1), (2, 2), (3, 3), (4, 4), (5, 5)],
        );
        let after = rows(
            "incident_updates",
            &[(1, 9), (2, 9), (3, 9), (4, 9), (5, 9)],
        );
        assert_eq!(
            Changes::between(&before, &after).unusual(),
            vec!["5 of 5 updates edited"]
        );
    }
}
