//! The one place that owns the Statuspage v2 shape.
//!
//! The public read API (`/api/v2/*.json`), the write API's answers and the
//! webhook payloads all serialise incidents, components and the page through
//! these types and builders, so a field renamed here changes everywhere at once.
//!
//! Nothing here knows about HTTP: builders take the store's view models and a
//! [`PageInfo`], and return plain serde structs.
//!
//! Statuspage ids are strings; our integer ids are rendered as decimal strings.
//! Component groups are listed among the components, as Statuspage does, with
//! `group: true` and ids of the form `group-<n>` so they never collide with a
//! component's id. Times are ISO 8601 with the offset of the page's zone.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::{ComponentStatus, OverallStatus, PageZone};
use crate::render::time;
use crate::store::components::ComponentView;
use crate::store::incidents::{ComponentChange, IncidentView, UpdateView};

/// What every object needs to know about the page it belongs to.
#[derive(Debug, Clone)]
pub struct PageInfo {
    pub id: String,
    pub name: String,
    /// The public page, from the configured base URL, with a trailing slash.
    pub url: String,
    pub zone: SharedZone,
}

/// The page's zone, one per process, shared by the pages, the APIs and the
/// worker: the first admin chooses it at setup while the process runs, and
/// other processes read the new one when they learn that pages changed.
#[derive(Debug, Clone)]
pub struct SharedZone(std::sync::Arc<std::sync::RwLock<PageZone>>);

impl SharedZone {
    pub fn new(zone: PageZone) -> Self {
        Self(std::sync::Arc::new(std::sync::RwLock::new(zone)))
    }

    pub fn get(&self) -> PageZone {
        // A poisoned lock still holds a whole zone (it is Copy).
        *self.0.read().unwrap_or_else(|e| e.into_inner())
    }

    pub fn set(&self, zone: PageZone) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = zone;
    }
}

impl PageInfo {
    /// The zone the page shows times in now.
    pub fn zone(&self) -> PageZone {
        self.zone.get()
    }

    /// An absolute link under the page's URL; `path` has no leading slash.
    pub fn link(&self, path: &str) -> String {
        format!("{}{}", self.url, path.trim_start_matches('/'))
    }

    /// ISO 8601 with the page zone's offset, the one time format of this API.
    pub fn time(&self, at: DateTime<Utc>) -> String {
        time::iso(at, self.zone().tz())
    }
}

/// `page`: which page this is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Page {
    pub id: String,
    pub name: String,
    pub url: String,
    /// IANA name of the page's zone.
    pub time_zone: String,
    /// When anything the page shows last changed.
    pub updated_at: String,
}

/// `status`: the page-wide rollup.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Status {
    /// One of `none`, `minor`, `major`, `critical`.
    #[schema(pattern = "^(none|minor|major|critical)$")]
    pub indicator: String,
    /// "All Systems Operational", "Partial System Outage", ...
    pub description: String,
}

/// A component, or a group of components (`group: true`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Component {
    pub id: String,
    pub name: String,
    /// `operational`, `degraded_performance`, `partial_outage`, `major_outage` or `under_maintenance`.
    #[schema(
        pattern = "^(operational|degraded_performance|partial_outage|major_outage|under_maintenance)$"
    )]
    pub status: String,
    pub created_at: String,
    pub updated_at: String,
    pub position: i32,
    pub description: Option<String>,
    pub showcase: bool,
    pub start_date: Option<String>,
    /// The group this component belongs to, if any.
    pub group_id: Option<String>,
    pub page_id: String,
    /// True for a group, whose members are listed in `components`.
    pub group: bool,
    pub only_show_if_degraded: bool,
    /// A group's members' ids; absent on a component.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub components: Option<Vec<String>>,
}

/// A component an update changed, with its status before and after.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AffectedComponent {
    /// The component's id.
    pub code: String,
    pub name: String,
    pub old_status: String,
    pub new_status: String,
}

/// One update of an incident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IncidentUpdate {
    pub id: String,
    /// `investigating`, `identified`, `monitoring` or `resolved`; in a
    /// webhook telling of a published postmortem, its first entry is the
    /// postmortem, with `postmortem`.
    #[schema(pattern = "^(investigating|identified|monitoring|resolved|postmortem)$")]
    pub status: String,
    /// The message as written (Markdown).
    pub body: String,
    pub incident_id: String,
    pub created_at: String,
    pub updated_at: String,
    /// When the update is shown as having happened (staff may backdate).
    pub display_at: String,
    pub affected_components: Vec<AffectedComponent>,
    pub deliver_notifications: bool,
    /// Beyond Statuspage: the display name of the staff member who wrote it.
    pub author: String,
    /// Beyond Statuspage: the time this update promised the next one by.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_update_by: Option<String>,
}

/// Beyond Statuspage: what a data-integrity incident says of its data. The
/// same shape is written through `/api/v1`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DataIntegrityJson {
    /// The start of the affected data window (ISO 8601).
    #[serde(default)]
    pub from: Option<String>,
    /// The end of the affected data window (ISO 8601).
    #[serde(default)]
    pub until: Option<String>,
    /// The point the data was restored to (ISO 8601).
    #[serde(default)]
    pub restored_to: Option<String>,
    /// `none`, `possible` or `confirmed`.
    #[serde(default)]
    #[schema(pattern = "^(none|possible|confirmed)$")]
    pub loss: Option<String>,
    /// What readers need to do, each a short line.
    #[serde(default)]
    pub actions: Vec<String>,
}

/// Beyond Statuspage: one step of a long recovery.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MilestoneJson {
    /// Stable within its incident: ticked by `POST /api/v1/incidents/{id}/milestones/{key}/complete`.
    pub key: String,
    pub title: String,
    /// Whether completing it notifies subscribers (as an update).
    pub notify: bool,
    /// When it was done; null until then.
    pub done_at: Option<String>,
    /// Who ticked it.
    pub done_by: Option<String>,
}

/// An incident with all its updates, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Incident {
    pub id: String,
    pub name: String,
    /// `investigating`, `identified`, `monitoring` or `resolved`; a scheduled
    /// maintenance: `scheduled`, `in_progress`, `verifying` or `completed`.
    #[schema(
        pattern = "^(investigating|identified|monitoring|resolved|scheduled|in_progress|verifying|completed)$"
    )]
    pub status: String,
    /// `none`, `minor`, `major`, `critical` or `maintenance`.
    #[schema(pattern = "^(none|minor|major|critical|maintenance)$")]
    pub impact: String,
    pub created_at: String,
    pub updated_at: String,
    pub monitoring_at: Option<String>,
    pub resolved_at: Option<String>,
    pub started_at: String,
    /// The incident's public page.
    pub shortlink: String,
    pub page_id: String,
    /// Newest first.
    pub incident_updates: Vec<IncidentUpdate>,
    /// The components any update touched, as they are now; a maintenance's
    /// planned ones too.
    pub components: Vec<Component>,
    /// A scheduled maintenance's window (absent on an incident).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduled_for: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduled_until: Option<String>,
    /// Whether subscribers are reminded before the start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduled_remind_prior: Option<bool>,
    /// Whether it moves to `in_progress` at `scheduled_for` by itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduled_auto_in_progress: Option<bool>,
    /// Whether it moves to `completed` at `scheduled_until` by itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduled_auto_completed: Option<bool>,
    /// The published postmortem (Markdown as written); null while there is
    /// none or it is a draft.
    pub postmortem_body: Option<String>,
    /// When the published postmortem's text last changed.
    pub postmortem_body_last_updated_at: Option<String>,
    /// Staff marked this incident as getting no postmortem.
    pub postmortem_ignored: bool,
    /// Subscribers were told of the postmortem.
    pub postmortem_notified_subscribers: bool,
    /// Always false: statuspost posts to no social network.
    pub postmortem_notified_twitter: bool,
    /// When the postmortem was published; null unless it is.
    pub postmortem_published_at: Option<String>,
    /// Beyond Statuspage: the time the latest update promised the next one
    /// by, while the incident is open (it may have passed: then it is overdue).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_update_by: Option<String>,
    /// Beyond Statuspage: what a data-integrity incident says of its data
    /// (boxed: most incidents say nothing of it, and webhooks move incidents by value).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_integrity: Option<Box<DataIntegrityJson>>,
    /// Beyond Statuspage: a long recovery's steps, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub milestones: Vec<MilestoneJson>,
}

/// What an incident says of its data, as the APIs carry it.
pub fn data_integrity(info: &PageInfo, d: &crate::domain::DataIntegrity) -> DataIntegrityJson {
    DataIntegrityJson {
        from: d.from.map(|t| info.time(t)),
        until: d.until.map(|t| info.time(t)),
        restored_to: d.restored_to.map(|t| info.time(t)),
        loss: d.loss.map(|l| l.as_str().to_owned()),
        actions: d.actions.iter().map(|a| a.as_str().to_owned()).collect(),
    }
}

pub fn milestone(info: &PageInfo, m: &crate::domain::Milestone) -> MilestoneJson {
    MilestoneJson {
        key: m.key.clone(),
        title: m.title.clone(),
        notify: m.notify,
        done_at: m.done_at.map(|t| info.time(t)),
        done_by: m.done_by.clone(),
    }
}

/// A component's status change outside an incident, as webhooks carry it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ComponentUpdate {
    pub id: String,
    pub component_id: String,
    pub old_status: String,
    pub new_status: String,
    pub created_at: String,
}

/// `GET /api/v2/summary.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Summary {
    pub page: Page,
    pub status: Status,
    pub components: Vec<Component>,
    /// Unresolved incidents.
    pub incidents: Vec<Incident>,
    /// Scheduled maintenances upcoming or in progress, soonest first.
    pub scheduled_maintenances: Vec<Incident>,
}

/// `GET /api/v2/scheduled-maintenances.json` and its `upcoming` and `active` lists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MaintenancesDocument {
    pub page: Page,
    pub scheduled_maintenances: Vec<Incident>,
}

/// `GET /api/v2/status.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusDocument {
    pub page: Page,
    pub status: Status,
}

/// `GET /api/v2/components.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ComponentsDocument {
    pub page: Page,
    pub components: Vec<Component>,
}

/// `GET /api/v2/incidents.json` and `/api/v2/incidents/unresolved.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IncidentsDocument {
    pub page: Page,
    pub incidents: Vec<Incident>,
}

// ---- builders ----------------------------------------------------------------

/// The page-wide rollup of these components.
pub fn status(components: &[ComponentView]) -> Status {
    overall(OverallStatus::from_components(
        components.iter().map(|c| c.status),
    ))
}

/// The `status` object of an already computed overall status.
pub fn overall(o: OverallStatus) -> Status {
    Status {
        indicator: o.indicator().to_owned(),
        description: o.description().to_owned(),
    }
}

/// The `page` object; `updated_at` is the latest change among what is shown.
pub fn page(info: &PageInfo, updated_at: DateTime<Utc>) -> Page {
    Page {
        id: info.id.clone(),
        name: info.name.clone(),
        url: info.url.clone(),
        time_zone: info.zone().name().to_owned(),
        updated_at: info.time(updated_at),
    }
}

/// When the page last changed, judged from what it shows: the latest component
/// or incident change, else `fallback`.
pub fn last_change(
    components: &[ComponentView],
    incidents: &[IncidentView],
    fallback: DateTime<Utc>,
) -> DateTime<Utc> {
    components
        .iter()
        .map(|c| c.model.updated_at)
        .chain(incidents.iter().map(|i| i.model.updated_at))
        .max()
        .unwrap_or(fallback)
}

/// The id a group has among the components.
pub fn group_id(id: i32) -> String {
    format!("group-{id}")
}

/// One component (not a group).
pub fn component(info: &PageInfo, c: &ComponentView) -> Component {
    Component {
        id: c.model.id.to_string(),
        name: c.model.name.clone(),
        status: c.status.as_str().to_owned(),
        created_at: info.time(c.model.created_at),
        updated_at: info.time(c.model.updated_at),
        position: c.model.position,
        description: Some(c.model.description.clone()).filter(|d| !d.trim().is_empty()),
        showcase: c.model.show_uptime,
        start_date: c.model.uptime_start.map(|d| d.to_string()),
        group_id: c.group.as_ref().map(|g| group_id(g.id)),
        page_id: info.id.clone(),
        group: false,
        only_show_if_degraded: false,
        components: None,
    }
}

/// Every component and group, in page order: a group comes right before its
/// members, with the worst status among them.
pub fn components(info: &PageInfo, list: &[ComponentView]) -> Vec<Component> {
    let mut out = Vec::new();
    let mut seen_groups = Vec::new();
    for c in list {
        if let Some(g) = &c.group {
            if !seen_groups.contains(&g.id) {
                seen_groups.push(g.id);
                let members: Vec<&ComponentView> = list
                    .iter()
                    .filter(|m| m.group.as_ref().is_some_and(|mg| mg.id == g.id))
                    .collect();
                // `members` holds `c` itself, so the fold starts from a real status.
                let worst = members
                    .iter()
                    .map(|m| m.status)
                    .fold(c.status, ComponentStatus::worse);
                let updated = members
                    .iter()
                    .map(|m| m.model.updated_at)
                    .chain([g.updated_at])
                    .max()
                    .unwrap_or(g.updated_at);
                out.push(Component {
                    id: group_id(g.id),
                    name: g.name.clone(),
                    status: worst.as_str().to_owned(),
                    created_at: info.time(g.created_at),
                    updated_at: info.time(updated),
                    position: g.position,
                    description: None,
                    showcase: false,
                    start_date: None,
                    group_id: None,
                    page_id: info.id.clone(),
                    group: true,
                    only_show_if_degraded: false,
                    components: Some(members.iter().map(|m| m.model.id.to_string()).collect()),
                });
            }
        }
        out.push(component(info, c));
    }
    out
}

fn affected(c: &ComponentChange) -> AffectedComponent {
    AffectedComponent {
        code: c.component_id.to_string(),
        name: c.name.clone(),
        old_status: c.old_status.as_str().to_owned(),
        new_status: c.new_status.as_str().to_owned(),
    }
}

/// One update of an incident.
pub fn incident_update(info: &PageInfo, u: &UpdateView) -> IncidentUpdate {
    IncidentUpdate {
        id: u.model.id.to_string(),
        status: u.status.as_str().to_owned(),
        body: u.model.body.clone(),
        incident_id: u.model.incident_id.to_string(),
        created_at: info.time(u.model.created_at),
        // An update changes only when staff correct its text.
        updated_at: info.time(u.model.corrected_at.unwrap_or(u.model.created_at)),
        display_at: info.time(u.model.display_at),
        affected_components: u.components.iter().map(affected).collect(),
        deliver_notifications: u.model.notify,
        author: u.author_name.clone(),
        next_update_by: u.model.next_update_by.map(|t| info.time(t)),
    }
}

/// An incident with its updates newest first. `all_components` is the current
/// component list, from which the incident's `components` are taken.
pub fn incident(info: &PageInfo, i: &IncidentView, all_components: &[ComponentView]) -> Incident {
    let mut touched: Vec<i32> = i
        .affected_components()
        .iter()
        .map(|c| c.component_id)
        .collect();
    for planned in crate::store::maintenance::planned_components(&i.model) {
        if !touched.contains(&planned) {
            touched.push(planned);
        }
    }
    let maintenance = i.is_maintenance();
    let published = i.published_postmortem();
    Incident {
        id: i.model.id.to_string(),
        name: i.model.title.clone(),
        status: i.status.as_str().to_owned(),
        impact: i.impact.as_str().to_owned(),
        created_at: info.time(i.model.created_at),
        updated_at: info.time(i.model.updated_at),
        monitoring_at: i.model.monitoring_at.map(|t| info.time(t)),
        resolved_at: i.model.resolved_at.map(|t| info.time(t)),
        started_at: info.time(i.model.started_at),
        shortlink: info.link(&format!("incidents/{}", i.model.id)),
        page_id: info.id.clone(),
        incident_updates: i
            .updates
            .iter()
            .rev()
            .map(|u| incident_update(info, u))
            .collect(),
        components: touched
            .iter()
            .filter_map(|t| all_components.iter().find(|c| c.model.id == *t))
            .map(|c| component(info, c))
            .collect(),
        scheduled_for: i.model.scheduled_for.map(|t| info.time(t)),
        scheduled_until: i.model.scheduled_until.map(|t| info.time(t)),
        scheduled_remind_prior: maintenance.then(|| i.model.scheduled_remind_minutes.is_some()),
        scheduled_auto_in_progress: maintenance.then_some(i.model.scheduled_auto_in_progress),
        scheduled_auto_completed: maintenance.then_some(i.model.scheduled_auto_completed),
        postmortem_body: published.map(|p| p.model.body.clone()),
        postmortem_body_last_updated_at: published.map(|p| info.time(p.model.updated_at)),
        postmortem_ignored: i.postmortem.as_ref().is_some_and(|p| p.model.ignored),
        postmortem_notified_subscribers: i
            .postmortem
            .as_ref()
            .is_some_and(|p| p.notified_at().is_some()),
        postmortem_notified_twitter: false,
        postmortem_published_at: published
            .and_then(|p| p.model.published_at)
            .map(|t| info.time(t)),
        next_update_by: i
            .updates
            .last()
            .and_then(|u| u.model.next_update_by)
            .filter(|_| !i.is_resolved())
            .map(|t| info.time(t)),
        data_integrity: i
            .integrity
            .as_ref()
            .map(|d| Box::new(data_integrity(info, d))),
        milestones: i.milestones.iter().map(|m| milestone(info, m)).collect(),
    }
}

/// The incident a webhook tells of when its postmortem is published: as it
/// stands, with the postmortem first among its updates as one with status
/// `postmortem` (Statuspage's subscribers read updates newest first).
/// `None` when the postmortem is not published.
pub fn postmortem_notice(
    info: &PageInfo,
    i: &IncidentView,
    all_components: &[ComponentView],
) -> Option<Incident> {
    let pm = i.published_postmortem()?;
    let published = pm.model.published_at.unwrap_or(pm.model.updated_at);
    let mut out = incident(info, i, all_components);
    out.incident_updates.insert(
        0,
        IncidentUpdate {
            id: format!("postmortem-{}", i.model.id),
            status: "postmortem".to_owned(),
            body: pm.model.body.clone(),
            incident_id: i.model.id.to_string(),
            created_at: info.time(published),
            updated_at: info.time(pm.model.updated_at),
            display_at: info.time(published),
            affected_components: Vec::new(),
            deliver_notifications: true,
            author: pm.author_name.clone(),
            next_update_by: None,
        },
    );
    Some(out)
}

/// A component's change of status, for a webhook's `component_update`.
/// `id` identifies the change (e.g. the outbox event's id).
pub fn component_update(
    info: &PageInfo,
    id: i32,
    component_id: i32,
    old_status: ComponentStatus,
    new_status: ComponentStatus,
    at: DateTime<Utc>,
) -> ComponentUpdate {
    ComponentUpdate {
        id: id.to_string(),
        component_id: component_id.to_string(),
        old_status: old_status.as_str().to_owned(),
        new_status: new_status.as_str().to_owned(),
        created_at: info.time(at),
    }
}

/// `summary.json` from the current components and the unresolved incidents.
pub fn summary(
    info: &PageInfo,
    components_list: &[ComponentView],
    unresolved: &[IncidentView],
    fallback: DateTime<Utc>,
) -> Summary {
    Summary {
        page: page(info, last_change(components_list, unresolved, fallback)),
        status: status(components_list),
        components: components(info, components_list),
        incidents: unresolved
            .iter()
            .filter(|i| !i.is_maintenance())
            .map(|i| incident(info, i, components_list))
            .collect(),
        scheduled_maintenances: crate::store::maintenance::not_over(unresolved)
            .into_iter()
            .map(|i| incident(info, i, components_list))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Impact, IncidentStatus};
    use crate::entity::{component, component_group, incident, incident_update};
    use chrono::TimeZone;

    fn info() -> PageInfo {
        PageInfo {
            id: "abc123".into(),
            name: "Acme".into(),
            url: "https://status.example.com/".into(),
            zone: SharedZone::new(PageZone::parse("America/New_York").unwrap()),
        }
    }

    fn at(h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2008, 2, 28, h, 38, 0).unwrap()
    }

    fn comp(id: i32, status: ComponentStatus, group: Option<i32>) -> ComponentView {
        ComponentView {
            model: component::Model {
                id,
                name: format!("C{id}"),
                description: String::new(),
                group_id: group,
                position: id,
                status: status.as_str().into(),
                created_at: at(10),
                updated_at: at(11),
                deleted_at: None,
                show_uptime: true,
                uptime_start: None,
            },
            status,
            group: group.map(|g| component_group::Model {
                id: g,
                name: "Group".into(),
                position: 0,
                created_at: at(10),
                updated_at: at(10),
            }),
        }
    }

    #[test]
    fn groups_precede_members_with_the_worst_status() {
        let list = [
            comp(1, ComponentStatus::Operational, Some(7)),
            comp(2, ComponentStatus::PartialOutage, Some(7)),
            comp(3, ComponentStatus::Operational, None),
        ];
        let out = components(&info(), &list);
        let ids: Vec<_> = out.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["group-7", "1", "2", "3"]);
        assert_eq!(out[0].status, "partial_outage");
        assert_eq!(
            out[0].components.as_deref(),
            Some(&["1".into(), "2".into()][..])
        );
        assert_eq!(out[1].group_id.as_deref(), Some("group-7"));
        assert_eq!(out[1].created_at, "2008-02-28T05:38:00-05:00");
        assert_eq!(status(&list).indicator, "major");
        assert_eq!(status(&[]).indicator, "none");
    }

    #[test]
    fn updates_read_newest_first_with_their_changes() {
        let update = |id: i32, h: u32, status: IncidentStatus| UpdateView {
            model: incident_update::Model {
                id,
                incident_id: 5,
                status: status.as_str().into(),
                body: format!("update {id}"),
                author_id: 1,
                notify: true,
                display_at: at(h),
                created_at: at(h),
                next_update_by: None,
                corrected_at: None,
                revisions: None,
            },
            status,
            author_name: "Shannon".into(),
            components: vec![ComponentChange {
                component_id: 3,
                name: "C3".into(),
                old_status: ComponentStatus::Operational,
                new_status: ComponentStatus::MajorOutage,
            }],
        };
        let view = IncidentView {
            model: incident::Model {
                id: 5,
                title: "Live Site Issue".into(),
                impact: "major".into(),
                status: "resolved".into(),
                started_at: at(12),
                monitoring_at: None,
                resolved_at: Some(at(17)),
                author_id: 1,
                seed_key: None,
                created_at: at(12),
                updated_at: at(17),
                scheduled_for: None,
                scheduled_until: None,
                scheduled_remind_minutes: None,
                scheduled_auto_in_progress: false,
                scheduled_auto_completed: false,
                scheduled_notify_start: true,
                scheduled_notify_end: true,
                scheduled_components: None,
                reminded_at: None,
                data_from: None,
                data_until: None,
                data_restored_to: None,
                data_loss: None,
                reader_actions: None,
                milestones: None,
                scheduled_edits: 0,
                series_id: None,
                series_start: None,
            },
            status: IncidentStatus::Resolved,
            impact: Impact::Major,
            author_name: "Shannon".into(),
            planned: Vec::new(),
            updates: vec![
                update(1, 12, IncidentStatus::Investigating),
                update(2, 17, IncidentStatus::Resolved),
            ],
            postmortem: None,
            integrity: None,
            milestones: Vec::new(),
        };
        let comps = [comp(3, ComponentStatus::MajorOutage, None)];
        let out = incident(&info(), &view, &comps);
        assert_eq!(out.incident_updates[0].id, "2");
        assert_eq!(out.incident_updates[1].status, "investigating");
        assert_eq!(out.shortlink, "https://status.example.com/incidents/5");
        assert_eq!(
            out.resolved_at.as_deref(),
            Some("2008-02-28T12:38:00-05:00")
        );
        assert_eq!(out.components[0].id, "3");
        let a = &out.incident_updates[0].affected_components[0];
        assert_eq!(
            (a.old_status.as_str(), a.new_status.as_str()),
            ("operational", "major_outage")
        );
        assert_eq!(out.incident_updates[0].author, "Shannon");
    }
}
