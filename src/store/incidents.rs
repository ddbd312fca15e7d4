//! Incidents and their append-only updates. Every write here is one transaction
//! that also records the outbox event, so a notification is never lost or invented.
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use super::{now, StoreError};
use crate::domain::{
    changes_on_resolve, ComponentStatus, DataIntegrity, DataLoss, Impact, IncidentStatus,
    IncidentTitle, Milestone, MilestoneTitle, Promise, ReaderAction, Standing, UpdateBody,
};
use crate::entity::{component, incident, incident_update, staff, update_component};

pub struct NewIncident {
    pub title: IncidentTitle,
    pub impact: Impact,
    pub update: NewUpdate,
    /// Set by the demo so that loading it twice does not duplicate it.
    pub seed_key: Option<String>,
    /// Makes it a scheduled maintenance.
    pub plan: Option<super::maintenance::Plan>,
    /// What it says of its data, when it is a data-integrity incident.
    pub integrity: Option<DataIntegrity>,
    /// The recovery's steps, named ahead: each title, and whether completing it notifies.
    pub milestones: Vec<(MilestoneTitle, bool)>,
}

pub struct NewUpdate {
    pub status: IncidentStatus,
    pub body: UpdateBody,
    pub components: Vec<(i32, ComponentStatus)>,
    pub at: DateTime<Utc>,
    pub author_id: i32,
    pub notify: bool,
    /// When the update leaves the incident resolved, the components it
    /// affected and `components` does not name return to operational, in
    /// this update (see `domain::changes_on_resolve`).
    pub operational_on_resolve: bool,
    /// The time this update promises the next one by (`domain::promise`).
    pub next_update_by: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub struct Published {
    pub incident_id: i32,
    pub update_id: i32,
}

pub async fn create(db: &DatabaseConnection, new: NewIncident) -> Result<Published, StoreError> {
    if new.plan.is_some() != new.update.status.is_maintenance() {
        let e = IncidentStatus::parse_for(new.update.status.as_str(), new.plan.is_some())
            .err()
            .map(|e| e.0)
            .unwrap_or_default();
        return Err(StoreError::Conflict {
            field: "status",
            message: e,
        });
    }
    let txn = super::begin_write(db).await?;
    let at = now();
    let inc = incident::ActiveModel {
        title: Set(new.title.as_str().to_owned()),
        impact: Set(new.impact.as_str().to_owned()),
        status: Set(new.update.status.as_str().to_owned()),
        started_at: Set(new.update.at),
        monitoring_at: Set(None),
        resolved_at: Set(None),
        author_id: Set(new.update.author_id),
        seed_key: Set(new.seed_key),
        created_at: Set(at),
        updated_at: Set(at),
        ..Default::default()
    };
    let mut inc = match &new.plan {
        Some(plan) => plan.apply(&txn, inc).await?,
        None => inc,
    };
    integrity_columns(&mut inc, new.integrity.as_ref());
    let mut milestones = Vec::new();
    for (title, notify) in new.milestones {
        milestones = crate::domain::milestone::add(&milestones, title, notify).map_err(|e| {
            StoreError::Conflict {
                field: "milestones",
                message: e.0,
            }
        })?;
    }
    inc.milestones = Set(milestones_json(&milestones));
    let inc = inc.insert(&txn).await?;
    let update_id = append(&txn, inc, new.update).await?;
    txn.commit().await?;
    Ok(update_id)
}

/// Writes what an incident says of its data into its row; `None` clears it.
pub(super) fn integrity_columns(row: &mut incident::ActiveModel, d: Option<&DataIntegrity>) {
    row.data_from = Set(d.and_then(|d| d.from));
    row.data_until = Set(d.and_then(|d| d.until));
    row.data_restored_to = Set(d.and_then(|d| d.restored_to));
    row.data_loss = Set(d.and_then(|d| d.loss).map(|l| l.as_str().to_owned()));
    row.reader_actions = Set(d.filter(|d| !d.actions.is_empty()).map(|d| {
        serde_json::to_string(&d.actions.iter().map(|a| a.as_str()).collect::<Vec<_>>())
            .unwrap_or_default()
    }));
}

/// The milestones column: none is NULL, so plain incidents stay as they were.
pub(super) fn milestones_json(list: &[Milestone]) -> Option<String> {
    (!list.is_empty()).then(|| serde_json::to_string(list).unwrap_or_default())
}

/// Sets (or with `None` clears) what incident `id` says of its data. The page
/// shows it at once; subscribers see it with the next update.
pub async fn set_integrity(
    db: &DatabaseConnection,
    id: i32,
    integrity: Option<DataIntegrity>,
) -> Result<(), StoreError> {
    let txn = super::begin_write(db).await?;
    let inc = lock_incident(&txn, id).await?;
    let mut row: incident::ActiveModel = inc.into();
    integrity_columns(&mut row, integrity.as_ref());
    row.updated_at = Set(now());
    row.update(&txn).await?;
    txn.commit().await?;
    Ok(())
}

pub async fn post_update(
    db: &DatabaseConnection,
    incident_id: i32,
    update: NewUpdate,
) -> Result<Published, StoreError> {
    let txn = super::begin_write(db).await?;
    let inc = lock_incident(&txn, incident_id).await?;
    let maintenance = inc.scheduled_for.is_some();
    if maintenance != update.status.is_maintenance() {
        // Parsed again for its message: one wording for the form and the API.
        let e = IncidentStatus::parse_for(update.status.as_str(), maintenance)
            .err()
            .map(|e| e.0)
            .unwrap_or_default();
        return Err(StoreError::Conflict {
            field: "status",
            message: e,
        });
    }
    // A maintenance is told of before its window opens.
    if update.at < inc.started_at && inc.scheduled_for.is_none() {
        return Err(StoreError::Conflict {
            field: "at",
            message: "An update cannot be earlier than the incident's start.".into(),
        });
    }
    let published = append(&txn, inc, update).await?;
    txn.commit().await?;
    Ok(published)
}

/// Reads the incident inside the transaction, holding a row lock on PostgreSQL so
/// that two updates posted at once apply one after the other (on SQLite,
/// `begin_write` already holds the one write lock).
pub(super) async fn lock_incident(
    txn: &DatabaseTransaction,
    id: i32,
) -> Result<incident::Model, StoreError> {
    let mut q = incident::Entity::find_by_id(id);
    if txn.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        q = q.lock_exclusive();
    }
    q.one(txn).await?.ok_or(StoreError::NotFound)
}

pub(super) async fn append(
    txn: &DatabaseTransaction,
    inc: incident::Model,
    u: NewUpdate,
) -> Result<Published, StoreError> {
    let latest = incident_update::Entity::find()
        .filter(incident_update::Column::IncidentId.eq(inc.id))
        .order_by_desc(incident_update::Column::DisplayAt)
        .one(txn)
        .await?;
    let upd = incident_update::ActiveModel {
        incident_id: Set(inc.id),
        status: Set(u.status.as_str().to_owned()),
        body: Set(u.body.as_str().to_owned()),
        author_id: Set(u.author_id),
        notify: Set(u.notify),
        display_at: Set(u.at),
        created_at: Set(now()),
        next_update_by: Set(u.next_update_by),
        ..Default::default()
    }
    .insert(txn)
    .await?;

    let now_stands = Standing {
        status: super::read(
            IncidentStatus::parse(&inc.status),
            format_args!("the status of incident {}", inc.id),
        )?,
        resolved_at: inc.resolved_at,
        monitoring_at: inc.monitoring_at,
        latest_at: latest.map(|l| l.display_at),
    }
    .after(u.status, u.at);
    let components = if u.operational_on_resolve && now_stands.status.is_resolved() {
        changes_on_resolve(u.components, affected_now(txn, inc.id).await?)
    } else {
        u.components
    };
    for (component_id, new_status) in &components {
        let comp = component::Entity::find_by_id(*component_id)
            .filter(component::Column::DeletedAt.is_null())
            .one(txn)
            .await?
            .ok_or_else(|| StoreError::Conflict {
                field: "components",
                message: format!("Component {component_id} does not exist."),
            })?;
        update_component::ActiveModel {
            update_id: Set(upd.id),
            component_id: Set(comp.id),
            old_status: Set(comp.status.clone()),
            new_status: Set(new_status.as_str().to_owned()),
        }
        .insert(txn)
        .await?;
        // Read before the await: `format_args!` is not Send.
        let old_status = super::read(
            ComponentStatus::parse(&comp.status),
            format_args!("the status of component {}", comp.id),
        )?;
        super::uptime::record(
            txn,
            comp.id,
            u.at,
            old_status,
            *new_status,
            Some(super::uptime::MadeBy {
                incident_id: inc.id,
                update_id: upd.id,
            }),
        )
        .await?;
        let mut c: component::ActiveModel = comp.into();
        c.status = Set(new_status.as_str().to_owned());
        c.updated_at = Set(now());
        c.update(txn).await?;
    }

    let mut m: incident::ActiveModel = inc.clone().into();
    m.status = Set(now_stands.status.as_str().to_owned());
    m.resolved_at = Set(now_stands.resolved_at);
    m.monitoring_at = Set(now_stands.monitoring_at);
    m.updated_at = Set(now());
    m.update(txn).await?;

    if u.notify {
        super::outbox::write(
            txn,
            super::outbox::Event::IncidentUpdate {
                incident_id: inc.id,
                update_id: upd.id,
            },
        )
        .await?;
    }
    Ok(Published {
        incident_id: inc.id,
        update_id: upd.id,
    })
}

/// The components this incident's updates changed, each with its status now;
/// archived ones are left out, as no update can change them any more.
async fn affected_now(
    txn: &DatabaseTransaction,
    incident_id: i32,
) -> Result<Vec<(i32, ComponentStatus)>, StoreError> {
    use sea_orm::sea_query::Query;
    let updates = Query::select()
        .column(incident_update::Column::Id)
        .from(incident_update::Entity)
        .and_where(incident_update::Column::IncidentId.eq(incident_id))
        .to_owned();
    let touched = Query::select()
        .column(update_component::Column::ComponentId)
        .from(update_component::Entity)
        .and_where(update_component::Column::UpdateId.in_subquery(updates))
        .to_owned();
    let rows = component::Entity::find()
        .filter(component::Column::Id.in_subquery(touched))
        .filter(component::Column::DeletedAt.is_null())
        .order_by_asc(component::Column::Id)
        .all(txn)
        .await?;
    rows.into_iter()
        .map(|c| {
            let status = super::read(
                ComponentStatus::parse(&c.status),
                format_args!("the status of component {}", c.id),
            )?;
            Ok((c.id, status))
        })
        .collect()
}

pub async fn find_by_seed_key(
    db: &DatabaseConnection,
    key: &str,
) -> Result<Option<incident::Model>, sea_orm::DbErr> {
    incident::Entity::find()
        .filter(incident::Column::SeedKey.eq(key))
        .one(db)
        .await
}

// ---- reading ----------------------------------------------------------------

#[derive(Debug, Clone)]
pub struct ComponentChange {
    pub component_id: i32,
    pub name: String,
    pub old_status: ComponentStatus,
    pub new_status: ComponentStatus,
}

#[derive(Debug, Clone)]
pub struct UpdateView {
    pub model: incident_update::Model,
    pub status: IncidentStatus,
    pub author_name: String,
    pub components: Vec<ComponentChange>,
}

#[derive(Debug, Clone)]
pub struct IncidentView {
    pub model: incident::Model,
    pub status: IncidentStatus,
    pub impact: Impact,
    pub author_name: String,
    /// Oldest first, as the page reads.
    pub updates: Vec<UpdateView>,
    /// A maintenance's planned components, by name; empty on an incident.
    pub planned: Vec<String>,
    /// Its postmortem in whatever state: readers see it only once published
    /// (`Postmortem::published`).
    pub postmortem: Option<super::postmortems::Postmortem>,
    /// What it says of its data, if it is a data-integrity incident.
    pub integrity: Option<DataIntegrity>,
    /// The recovery's steps, in order.
    pub milestones: Vec<Milestone>,
}

impl IncidentView {
    /// The latest update's promise of the next, as readers are told it at `now`.
    pub fn promise(&self, now: DateTime<Utc>) -> Option<Promise> {
        let latest = self.updates.last()?.model.next_update_by;
        Promise::of(latest, !self.is_resolved(), now)
    }

    pub fn is_resolved(&self) -> bool {
        self.status.is_resolved()
    }

    /// The window, when this is a scheduled maintenance.
    pub fn window(&self) -> Option<crate::domain::Window> {
        match (self.model.scheduled_for, self.model.scheduled_until) {
            (Some(from), Some(until)) => Some(crate::domain::Window { from, until }),
            _ => None,
        }
    }

    pub fn is_maintenance(&self) -> bool {
        self.model.scheduled_for.is_some()
    }

    /// A maintenance completed without ever starting: called off.
    pub fn is_cancelled(&self) -> bool {
        self.is_maintenance()
            && self.status == IncidentStatus::Completed
            && !self.updates.iter().any(|u| {
                matches!(
                    u.status,
                    IncidentStatus::InProgress | IncidentStatus::Verifying
                )
            })
    }

    /// Every component any update touched, with the status the latest one gave it.
    pub fn affected_components(&self) -> Vec<ComponentChange> {
        let mut out: Vec<ComponentChange> = Vec::new();
        for u in &self.updates {
            for c in &u.components {
                match out.iter_mut().find(|x| x.component_id == c.component_id) {
                    Some(x) => x.new_status = c.new_status,
                    None => out.push(c.clone()),
                }
            }
        }
        out
    }

    pub fn last_update_at(&self) -> DateTime<Utc> {
        self.updates
            .iter()
            .map(|u| u.model.display_at)
            .max()
            .unwrap_or(self.model.started_at)
    }

    /// The postmortem readers may see, if there is one.
    pub fn published_postmortem(&self) -> Option<&super::postmortems::Postmortem> {
        self.postmortem.as_ref().and_then(|p| p.published())
    }

    /// The latest thing readers saw change: an update, or the published
    /// postmortem (its publication or its last edit). Feeds move on it.
    pub fn last_change_at(&self) -> DateTime<Utc> {
        // Not the start: a maintenance's lies ahead, in its window.
        let postmortem = self.published_postmortem().map(|p| p.model.updated_at);
        let latest = self.last_update_at();
        postmortem.map_or(latest, |p| latest.max(p))
    }
}

/// The names a view shows beside ids: components' and staff's. Small, and
/// the same for every incident, so the public pages read them once per
/// generation (see `web::public`) instead of once per render.
#[derive(Debug, Default)]
pub struct Names {
    components: HashMap<i32, String>,
    staff: HashMap<i32, String>,
}

impl Names {
    pub async fn read(db: &impl ConnectionTrait) -> Result<Self, sea_orm::DbErr> {
        let components = component::Entity::find()
            .all(db)
            .await?
            .into_iter()
            .map(|c| (c.id, c.name))
            .collect();
        let staff = staff::Entity::find()
            .all(db)
            .await?
            .into_iter()
            .map(|s| (s.id, s.name))
            .collect();
        Ok(Self { components, staff })
    }
}

/// Loads views for these incidents, keeping their order, in a fixed number of queries.
pub(super) async fn views_of(
    db: &impl ConnectionTrait,
    incidents: Vec<incident::Model>,
) -> Result<Vec<IncidentView>, sea_orm::DbErr> {
    if incidents.is_empty() {
        return Ok(Vec::new());
    }
    views_named(db, incidents, &Names::read(db).await?).await
}

/// [`views_of`] with the names already read.
async fn views_named(
    db: &impl ConnectionTrait,
    incidents: Vec<incident::Model>,
    names: &Names,
) -> Result<Vec<IncidentView>, sea_orm::DbErr> {
    if incidents.is_empty() {
        return Ok(Vec::new());
    }
    let Names {
        components: names,
        staff: authors,
    } = names;
    let ids: Vec<i32> = incidents.iter().map(|i| i.id).collect();
    let mut postmortems: HashMap<i32, super::postmortems::Postmortem> =
        super::postmortems::of_incidents(db, ids.clone())
            .await?
            .into_iter()
            .map(|p| (p.model.incident_id, p))
            .collect();
    let updates = incident_update::Entity::find()
        .filter(incident_update::Column::IncidentId.is_in(ids))
        .order_by_asc(incident_update::Column::DisplayAt)
        .order_by_asc(incident_update::Column::Id)
        .all(db)
        .await?;
    let update_ids: Vec<i32> = updates.iter().map(|u| u.id).collect();
    let changes = if update_ids.is_empty() {
        Vec::new()
    } else {
        update_component::Entity::find()
            .filter(update_component::Column::UpdateId.is_in(update_ids))
            .all(db)
            .await?
    };
    let mut by_incident: HashMap<i32, Vec<UpdateView>> = HashMap::new();
    for u in updates {
        let components = changes
            .iter()
            .filter(|c| c.update_id == u.id)
            .map(|c| {
                let of = |s: &str| {
                    super::read(
                        ComponentStatus::parse(s),
                        format_args!("a component status of update {}", u.id),
                    )
                };
                Ok(ComponentChange {
                    component_id: c.component_id,
                    name: names.get(&c.component_id).cloned().unwrap_or_default(),
                    old_status: of(&c.old_status)?,
                    new_status: of(&c.new_status)?,
                })
            })
            .collect::<Result<_, sea_orm::DbErr>>()?;
        let status = super::read(
            IncidentStatus::parse(&u.status),
            format_args!("the status of update {}", u.id),
        )?;
        by_incident
            .entry(u.incident_id)
            .or_default()
            .push(UpdateView {
                status,
                author_name: authors.get(&u.author_id).cloned().unwrap_or_default(),
                components,
                model: u,
            });
    }
    incidents
        .into_iter()
        .map(|i| {
            Ok(IncidentView {
                status: super::read(
                    IncidentStatus::parse(&i.status),
                    format_args!("the status of incident {}", i.id),
                )?,
                impact: super::read(
                    Impact::parse(&i.impact),
                    format_args!("the impact of incident {}", i.id),
                )?,
                author_name: authors.get(&i.author_id).cloned().unwrap_or_default(),
                updates: by_incident.remove(&i.id).unwrap_or_default(),
                planned: super::maintenance::planned_components(&i)
                    .iter()
                    .filter_map(|id| names.get(id).cloned())
                    .collect(),
                postmortem: postmortems.remove(&i.id).map(|mut p| {
                    p.author_name = authors.get(&p.model.author_id).cloned().unwrap_or_default();
                    p
                }),
                integrity: integrity_of(&i)?,
                milestones: milestones_of(&i)?,
                model: i,
            })
        })
        .collect()
}

pub async fn load(
    db: &impl ConnectionTrait,
    id: i32,
) -> Result<Option<IncidentView>, sea_orm::DbErr> {
    load_named(db, id, &Names::read(db).await?).await
}

/// [`load`] with the names already read.
pub async fn load_named(
    db: &impl ConnectionTrait,
    id: i32,
    names: &Names,
) -> Result<Option<IncidentView>, sea_orm::DbErr> {
    let Some(i) = incident::Entity::find_by_id(id).one(db).await? else {
        return Ok(None);
    };
    Ok(views_named(db, vec![i], names).await?.pop())
}

pub async fn load_update(
    db: &impl ConnectionTrait,
    update_id: i32,
) -> Result<Option<incident_update::Model>, sea_orm::DbErr> {
    incident_update::Entity::find_by_id(update_id).one(db).await
}

/// The most recent incidents, newest first, whatever their age.
pub async fn recent(
    db: &impl ConnectionTrait,
    limit: u64,
) -> Result<Vec<IncidentView>, sea_orm::DbErr> {
    let list = incident::Entity::find()
        .order_by_desc(incident::Column::StartedAt)
        .order_by_desc(incident::Column::Id)
        .limit(limit)
        .all(db)
        .await?;
    views_of(db, list).await
}

/// The most recent incidents, newest first, without scheduled maintenances
/// (which Statuspage lists apart).
pub async fn recent_incidents(
    db: &impl ConnectionTrait,
    limit: u64,
) -> Result<Vec<IncidentView>, sea_orm::DbErr> {
    let list = incident::Entity::find()
        .filter(incident::Column::ScheduledFor.is_null())
        .order_by_desc(incident::Column::StartedAt)
        .order_by_desc(incident::Column::Id)
        .limit(limit)
        .all(db)
        .await?;
    views_of(db, list).await
}

/// Every incident that started at `since` or later, newest first: the front
/// page's days, read through the listing index.
pub async fn started_since(
    db: &impl ConnectionTrait,
    since: DateTime<Utc>,
) -> Result<Vec<IncidentView>, sea_orm::DbErr> {
    let list = incident::Entity::find()
        .filter(incident::Column::StartedAt.gte(since))
        .order_by_desc(incident::Column::StartedAt)
        .order_by_desc(incident::Column::Id)
        .all(db)
        .await?;
    views_of(db, list).await
}

/// The condition "still open" (neither resolved nor completed). The values
/// are written into the SQL, not bound: only then can both planners see that
/// the partial index of open incidents (`idx_incidents_open`) answers it,
/// instead of reading every incident.
pub(super) fn open_condition() -> sea_orm::sea_query::SimpleExpr {
    sea_orm::sea_query::Expr::cust(format!(
        "status NOT IN ('{}', '{}')",
        IncidentStatus::Resolved.as_str(),
        IncidentStatus::Completed.as_str()
    ))
}

pub async fn unresolved(db: &impl ConnectionTrait) -> Result<Vec<IncidentView>, sea_orm::DbErr> {
    let list = incident::Entity::find()
        .filter(open_condition())
        .order_by_desc(incident::Column::StartedAt)
        .all(db)
        .await?;
    views_of(db, list).await
}

/// One page of the history, newest first, and the number of pages. The page's
/// ids come from the index alone (`idx_incidents_listing`), so a deep page
/// reads 20 incidents, not every one before it.
pub async fn history(
    db: &DatabaseConnection,
    page: u64,
    per_page: u64,
) -> Result<(Vec<IncidentView>, u64), sea_orm::DbErr> {
    history_named(db, page, per_page, &Names::read(db).await?).await
}

/// [`history`] with the names already read.
pub async fn history_named(
    db: &DatabaseConnection,
    page: u64,
    per_page: u64,
    names: &Names,
) -> Result<(Vec<IncidentView>, u64), sea_orm::DbErr> {
    use sea_orm::sea_query::Expr;
    let total: i64 = incident::Entity::find()
        .select_only()
        .column_as(Expr::cust("COUNT(*)"), "n")
        .into_tuple()
        .one(db)
        .await?
        .unwrap_or(0);
    let pages = (total.max(0) as u64).div_ceil(per_page.max(1));
    let ids: Vec<i32> = incident::Entity::find()
        .select_only()
        .column(incident::Column::Id)
        .order_by_desc(incident::Column::StartedAt)
        .order_by_desc(incident::Column::Id)
        .limit(per_page)
        .offset(page.saturating_mul(per_page))
        .into_tuple()
        .all(db)
        .await?;
    if ids.is_empty() {
        return Ok((Vec::new(), pages));
    }
    let mut list = incident::Entity::find()
        .filter(incident::Column::Id.is_in(ids.clone()))
        .all(db)
        .await?;
    list.sort_by_key(|i| ids.iter().position(|id| *id == i.id));
    Ok((views_named(db, list, names).await?, pages))
}

/// What a row says of its data, read back through the domain's rules.
fn integrity_of(i: &incident::Model) -> Result<Option<DataIntegrity>, sea_orm::DbErr> {
    let loss = match &i.data_loss {
        Some(l) => Some(super::read(
            DataLoss::parse(l),
            format_args!("the data loss of incident {}", i.id),
        )?),
        None => None,
    };
    let actions: Vec<String> = match &i.reader_actions {
        Some(j) => serde_json::from_str(j).map_err(|e| {
            sea_orm::DbErr::Custom(format!("the actions of incident {}: {e}", i.id))
        })?,
        None => Vec::new(),
    };
    let actions = actions
        .iter()
        .map(|a| {
            super::read(
                ReaderAction::parse(a),
                format_args!("an action of incident {}", i.id),
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    let d = DataIntegrity {
        from: i.data_from,
        until: i.data_until,
        restored_to: i.data_restored_to,
        loss,
        actions,
    };
    Ok((!d.is_empty()).then_some(d))
}

/// A row's milestones.
pub(super) fn milestones_of(i: &incident::Model) -> Result<Vec<Milestone>, sea_orm::DbErr> {
    match &i.milestones {
        Some(j) => serde_json::from_str(j).map_err(|e| {
            sea_orm::DbErr::Custom(format!("the milestones of incident {}: {e}", i.id))
        }),
        None => Ok(Vec::new()),
    }
}
