//! The record of components' status changes, and reading it back as
//! timelines over a range for the uptime bars and `uptime.json`.
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use crate::domain::uptime::{day_start, Timeline};
use crate::domain::ComponentStatus;
use crate::entity::{component, component_status_change as change, incident};

/// Which incident update made a change.
#[derive(Debug, Clone, Copy)]
pub struct MadeBy {
    pub incident_id: i32,
    pub update_id: i32,
}

/// Records that `component_id` went from `old` to `new` at `at`, inside the
/// caller's write transaction. A change never goes before the component's
/// latest recorded one: statuses apply in the order they were set, so a
/// backdated update cannot rewrite a later status (and the record ends with
/// the status the component has).
pub async fn record(
    txn: &impl ConnectionTrait,
    component_id: i32,
    at: DateTime<Utc>,
    old: ComponentStatus,
    new: ComponentStatus,
    made_by: Option<MadeBy>,
) -> Result<(), DbErr> {
    if old == new {
        return Ok(());
    }
    let latest = change::Entity::find()
        .filter(change::Column::ComponentId.eq(component_id))
        .order_by_desc(change::Column::At)
        .one(txn)
        .await?
        .map(|c| c.at);
    change::ActiveModel {
        component_id: Set(component_id),
        at: Set(latest.map_or(at, |l| l.max(at))),
        old_status: Set(old.as_str().to_owned()),
        new_status: Set(new.as_str().to_owned()),
        incident_id: Set(made_by.map(|m| m.incident_id)),
        update_id: Set(made_by.map(|m| m.update_id)),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    Ok(())
}

fn status(s: &str, id: i32) -> Result<ComponentStatus, DbErr> {
    super::read(
        ComponentStatus::parse(s),
        format_args!("status change {id}"),
    )
}

/// When a component's record starts: the date staff chose, in the page's
/// zone, else when it was made, or its first recorded change when that is
/// earlier (an incident backdated before the component was added).
pub async fn record_start(
    db: &impl ConnectionTrait,
    c: &component::Model,
    zone: Tz,
) -> Result<DateTime<Utc>, DbErr> {
    if let Some(date) = c.uptime_start {
        return Ok(day_start(date, zone));
    }
    let first = change::Entity::find()
        .filter(change::Column::ComponentId.eq(c.id))
        .order_by_asc(change::Column::At)
        .one(db)
        .await?;
    Ok(first.map_or(c.created_at, |f| f.at.min(c.created_at)))
}

/// Each component's timeline over `[from, to)`, starting later where its
/// record does (see [`record_start`]).
pub async fn timelines(
    db: &impl ConnectionTrait,
    components: &[component::Model],
    zone: Tz,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<HashMap<i32, Timeline>, DbErr> {
    let ids: Vec<i32> = components.iter().map(|c| c.id).collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let in_range = change::Entity::find()
        .filter(change::Column::ComponentId.is_in(ids))
        .filter(change::Column::At.gte(from))
        .filter(change::Column::At.lt(to))
        .order_by_asc(change::Column::At)
        .order_by_asc(change::Column::Id)
        .all(db)
        .await?;
    let mut out = HashMap::new();
    for c in components {
        let start = record_start(db, c, zone).await?;
        let before = change::Entity::find()
            .filter(change::Column::ComponentId.eq(c.id))
            .filter(change::Column::At.lt(from))
            .order_by_desc(change::Column::At)
            .order_by_desc(change::Column::Id)
            .one(db)
            .await?;
        let mine: Vec<&change::Model> =
            in_range.iter().filter(|x| x.component_id == c.id).collect();
        let initial = match &before {
            Some(b) => status(&b.new_status, b.id)?,
            None => {
                // Nothing before the range: the first change after says what it was.
                let next = match mine.first() {
                    Some(n) => Some((*n).clone()),
                    None => {
                        change::Entity::find()
                            .filter(change::Column::ComponentId.eq(c.id))
                            .filter(change::Column::At.gte(to))
                            .order_by_asc(change::Column::At)
                            .order_by_asc(change::Column::Id)
                            .one(db)
                            .await?
                    }
                };
                match next {
                    Some(n) => status(&n.old_status, n.id)?,
                    None => super::read(
                        ComponentStatus::parse(&c.status),
                        format_args!("the status of component {}", c.id),
                    )?,
                }
            }
        };
        let changes = mine
            .iter()
            .map(|x| Ok((x.at, status(&x.new_status, x.id)?)))
            .collect::<Result<Vec<_>, DbErr>>()?;
        // What was loaded holds from `from`; nothing counts before the record starts.
        let t = Timeline::new(start.max(from), initial, changes);
        out.insert(c.id, t);
    }
    Ok(out)
}

/// An incident that touched a component, as the uptime text names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentSpan {
    pub id: i32,
    pub title: String,
    pub started_at: DateTime<Utc>,
    /// Open incidents run until now.
    pub resolved_at: Option<DateTime<Utc>>,
}

impl IncidentSpan {
    pub fn overlaps(&self, start: DateTime<Utc>, end: DateTime<Utc>) -> bool {
        self.started_at < end && self.resolved_at.is_none_or(|r| r >= start)
    }
}

/// For each component, the incidents whose updates changed its status and
/// whose time overlaps `[from, to)`, oldest first.
pub async fn incidents(
    db: &impl ConnectionTrait,
    component_ids: &[i32],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<HashMap<i32, Vec<IncidentSpan>>, DbErr> {
    if component_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let pairs: Vec<(i32, Option<i32>)> = change::Entity::find()
        .select_only()
        .column(change::Column::ComponentId)
        .column(change::Column::IncidentId)
        .distinct()
        .filter(change::Column::ComponentId.is_in(component_ids.to_vec()))
        .filter(change::Column::IncidentId.is_not_null())
        .into_tuple()
        .all(db)
        .await?;
    let mut ids: Vec<i32> = pairs.iter().filter_map(|(_, i)| *i).collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let spans: Vec<IncidentSpan> = incident::Entity::find()
        .filter(incident::Column::Id.is_in(ids))
        .filter(incident::Column::StartedAt.lt(to))
        .order_by_asc(incident::Column::StartedAt)
        .order_by_asc(incident::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|i| IncidentSpan {
            id: i.id,
            title: i.title,
            started_at: i.started_at,
            resolved_at: i.resolved_at,
        })
        .filter(|s| s.overlaps(from, to))
        .collect();
    let mut out: HashMap<i32, Vec<IncidentSpan>> = HashMap::new();
    for span in spans {
        for (c, _) in pairs.iter().filter(|(_, i)| *i == Some(span.id)) {
            out.entry(*c).or_default().push(span.clone());
        }
    }
    Ok(out)
}
