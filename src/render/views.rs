//! View models: what a template needs to show an incident, already formatted.
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use super::markdown;
use super::time::{self, Today};
use crate::domain::promise;
use crate::store::components::ComponentView;
use crate::store::incidents::{ComponentChange, IncidentView, UpdateView};

#[derive(Debug, Serialize)]
pub struct PostVm {
    pub id: i32,
    pub path: String,
    pub title: String,
    /// The title as the seed shows it: "Live Site Issue: File Names (Resolved)".
    pub display_title: String,
    pub resolved: bool,
    pub status: &'static str,
    pub status_label: &'static str,
    pub impact: &'static str,
    pub date_heading: String,
    pub started: TimeVm,
    pub resolved_at: Option<TimeVm>,
    pub updates: Vec<UpdateVm>,
    pub components: Vec<ChangeVm>,
    /// A scheduled maintenance's window and what it puts under maintenance.
    pub window: Option<WindowVm>,
    /// The published postmortem, shown below the updates.
    pub postmortem: Option<PostmortemVm>,
    /// What a data-integrity incident says of its data, in the box at its top.
    pub integrity: Option<IntegrityVm>,
    /// A long recovery's progress.
    pub milestones: Option<MilestonesVm>,
}

/// The data-integrity box: which data, restored to when, lost or not, and
/// what readers need to do about it.
#[derive(Debug, Serialize)]
pub struct IntegrityVm {
    pub from: Option<TimeVm>,
    pub until: Option<TimeVm>,
    pub restored_to: Option<TimeVm>,
    pub loss: Option<&'static str>,
    pub loss_label: Option<&'static str>,
    pub actions: Vec<String>,
}

pub fn integrity_vm(d: &crate::domain::DataIntegrity, tz: Tz) -> IntegrityVm {
    IntegrityVm {
        from: d.from.map(|t| time_vm(t, tz)),
        until: d.until.map(|t| time_vm(t, tz)),
        restored_to: d.restored_to.map(|t| time_vm(t, tz)),
        loss: d.loss.map(|l| l.as_str()),
        loss_label: d.loss.map(|l| l.label()),
        actions: d.actions.iter().map(|a| a.as_str().to_owned()).collect(),
    }
}

/// The recovery's steps in order, each with when it was done.
#[derive(Debug, Serialize)]
pub struct MilestonesVm {
    pub done: usize,
    pub total: usize,
    pub steps: Vec<MilestoneVm>,
}

#[derive(Debug, Serialize)]
pub struct MilestoneVm {
    pub key: String,
    pub title: String,
    pub notify: bool,
    pub done_at: Option<TimeVm>,
    pub done_by: Option<String>,
}

pub fn milestones_vm(list: &[crate::domain::Milestone], tz: Tz) -> Option<MilestonesVm> {
    if list.is_empty() {
        return None;
    }
    let (done, total) = crate::domain::milestone::progress(list);
    Some(MilestonesVm {
        done,
        total,
        steps: list
            .iter()
            .map(|m| MilestoneVm {
                key: m.key.clone(),
                title: m.title.clone(),
                notify: m.notify,
                done_at: m.done_at.map(|t| time_vm(t, tz)),
                done_by: m.done_by.clone(),
            })
            .collect(),
    })
}

/// "Next update by 3:30 PM EST", or once that passed with no update, "Next
/// update was due at 3:30 PM EST": never a promise in the past.
#[derive(Debug, Serialize)]
pub struct PromiseVm {
    pub overdue: bool,
    pub iso: String,
    /// The time as read today: the clock alone on today, else with its date.
    pub when: String,
    pub text: String,
}

pub fn promise_vm(view: &IncidentView, now: DateTime<Utc>, today: &Today) -> Option<PromiseVm> {
    let p = view.promise(now)?;
    let when = time::on_day(p.at(), today.tz, today.date);
    Some(PromiseVm {
        overdue: p.is_overdue(),
        iso: time::iso(p.at(), today.tz),
        text: if p.is_overdue() {
            format!("Next update was due at {when}")
        } else {
            format!("Next update by {when}")
        },
        when,
    })
}

#[derive(Debug, Serialize)]
pub struct WindowVm {
    pub from: TimeVm,
    pub until: TimeVm,
    pub components: Vec<String>,
    pub cancelled: bool,
}

/// A published postmortem as readers see it.
#[derive(Debug, Serialize)]
pub struct PostmortemVm {
    pub published: TimeVm,
    /// When its text changed after it was published, if it did.
    pub edited: Option<TimeVm>,
    pub body_html: String,
    pub author: String,
}

#[derive(Debug, Serialize)]
pub struct TimeVm {
    pub iso: String,
    pub clock: String,
    pub date_time: String,
}

/// "Corrected at 1:05 PM EST": when an update's text last changed.
#[derive(Debug, Serialize)]
pub struct CorrectedVm {
    pub at: TimeVm,
    pub when: String,
}

/// A text an update had before a correction.
#[derive(Debug, Serialize)]
pub struct RevisionVm {
    pub body_html: String,
    pub replaced: TimeVm,
    pub by: String,
}

/// A promise an update made, told once a later update answered it, so the
/// record shows whether readers heard when they were told they would.
#[derive(Debug, Serialize)]
pub struct PromisedVm {
    pub by: TimeVm,
    pub when: String,
    /// When the next update came, if after the promise.
    pub late: Option<LateVm>,
}

#[derive(Debug, Serialize)]
pub struct LateVm {
    pub at: TimeVm,
    pub when: String,
}

#[derive(Debug, Serialize)]
pub struct UpdateVm {
    pub id: i32,
    /// Only when a later update answered it: the standing promise is the page's own line.
    pub promised: Option<PromisedVm>,
    pub corrected: Option<CorrectedVm>,
    /// The earlier texts, oldest first: the original is kept and shown.
    pub revisions: Vec<RevisionVm>,
    pub first: bool,
    /// "UPDATE 12:38 PM EST - Issue Resolved"
    pub heading: String,
    pub at: TimeVm,
    /// The time as it reads where it is shown: the clock alone on the day the
    /// reader already knows (the date heading above it, or today), else with its date.
    pub when: String,
    pub status: &'static str,
    pub status_label: &'static str,
    pub body_html: String,
    pub author: String,
    pub components: Vec<ChangeVm>,
}

#[derive(Debug, Serialize)]
pub struct ChangeVm {
    pub id: i32,
    pub name: String,
    pub old_status: &'static str,
    pub status: &'static str,
    pub label: &'static str,
}

pub fn time_vm(at: chrono::DateTime<chrono::Utc>, tz: Tz) -> TimeVm {
    TimeVm {
        iso: time::iso(at, tz),
        clock: time::clock(at, tz),
        date_time: time::date_time(at, tz),
    }
}

/// The heading of an appended update, as the seed writes it.
pub fn update_heading(at: chrono::DateTime<chrono::Utc>, tz: Tz, status_label: &str) -> String {
    format!("UPDATE {} - {}", time::clock(at, tz), status_label)
}

fn change_vm(c: &ComponentChange) -> ChangeVm {
    ChangeVm {
        id: c.component_id,
        name: c.name.clone(),
        old_status: c.old_status.as_str(),
        status: c.new_status.as_str(),
        label: c.new_status.label(),
    }
}

/// One update, its time read against `day`, the day the reader already knows;
/// `next` is the update after it, if any.
fn update_vm(
    u: &UpdateView,
    next: Option<&UpdateView>,
    first: bool,
    tz: Tz,
    day: NaiveDate,
) -> UpdateVm {
    // A row whose revisions cannot be read still shows its text as it reads now.
    let revisions = crate::store::corrections::revisions_of(&u.model).unwrap_or_default();
    let promised = u.model.next_update_by.zip(next).map(|(by, next)| {
        let late = match promise::Answer::of(by, next.model.display_at) {
            promise::Answer::Kept => None,
            promise::Answer::Late(at) => Some(LateVm {
                at: time_vm(at, tz),
                when: time::on_day(at, tz, day),
            }),
        };
        PromisedVm {
            by: time_vm(by, tz),
            when: time::on_day(by, tz, day),
            late,
        }
    });
    UpdateVm {
        promised,
        corrected: u.model.corrected_at.map(|t| CorrectedVm {
            at: time_vm(t, tz),
            when: time::on_day(t, tz, day),
        }),
        revisions: revisions
            .iter()
            .map(|r| RevisionVm {
                body_html: markdown::to_safe_html(&r.body),
                replaced: time_vm(r.replaced_at, tz),
                by: r.replaced_by.clone(),
            })
            .collect(),
        id: u.model.id,
        first,
        heading: update_heading(u.model.display_at, tz, u.status.label()),
        at: time_vm(u.model.display_at, tz),
        when: time::on_day(u.model.display_at, tz, day),
        status: u.status.as_str(),
        status_label: u.status.label(),
        body_html: markdown::to_safe_html(&u.model.body),
        author: u.author_name.clone(),
        components: u.components.iter().map(change_vm).collect(),
    }
}

fn display_title(view: &IncidentView) -> String {
    match (view.is_maintenance(), view.is_resolved()) {
        (true, true) if view.is_cancelled() => format!("{} (Cancelled)", view.model.title),
        (true, true) => format!("{} (Completed)", view.model.title),
        _ => shown_title(&view.model.title, view.is_resolved()),
    }
}

/// An incident's title as readers see it: the seed's "(Resolved)" once it is.
pub fn shown_title(title: &str, resolved: bool) -> String {
    if resolved {
        format!("{title} (Resolved)")
    } else {
        title.to_owned()
    }
}

/// The whole post, oldest update first as the seed reads, under the date
/// heading of its start: the times of that day show the clock alone.
pub fn post(view: &IncidentView, tz: Tz) -> PostVm {
    let day = time::local_date(view.model.started_at, tz);
    let updates = view
        .updates
        .iter()
        .enumerate()
        .map(|(i, u)| update_vm(u, view.updates.get(i + 1), i == 0, tz, day))
        .collect();
    PostVm {
        id: view.model.id,
        path: format!("incidents/{}", view.model.id),
        title: view.model.title.clone(),
        display_title: display_title(view),
        resolved: view.is_resolved(),
        status: view.status.as_str(),
        status_label: view.status.label(),
        impact: view.impact.as_str(),
        date_heading: time::date_heading(view.model.started_at, tz),
        started: time_vm(view.model.started_at, tz),
        resolved_at: view.model.resolved_at.map(|t| time_vm(t, tz)),
        updates,
        components: view.affected_components().iter().map(change_vm).collect(),
        window: view.window().map(|w| WindowVm {
            from: time_vm(w.from, tz),
            until: time_vm(w.until, tz),
            components: crate::store::maintenance::planned_names(view),
            cancelled: view.is_cancelled(),
        }),
        postmortem: postmortem_vm(view, tz),
        integrity: view.integrity.as_ref().map(|d| integrity_vm(d, tz)),
        milestones: milestones_vm(&view.milestones, tz),
    }
}

/// The postmortem readers may see, if any.
pub fn postmortem_vm(view: &IncidentView, tz: Tz) -> Option<PostmortemVm> {
    let pm = view.published_postmortem()?;
    let published = pm.model.published_at.unwrap_or(pm.model.updated_at);
    Some(PostmortemVm {
        published: time_vm(published, tz),
        edited: (pm.model.updated_at > published).then(|| time_vm(pm.model.updated_at, tz)),
        body_html: markdown::to_safe_html(&pm.model.body),
        author: pm.author_name.clone(),
    })
}

/// The update that tells where an open incident stands now, for the line at
/// the top of its page.
#[derive(Debug, Serialize)]
pub struct LatestVm {
    pub id: i32,
    pub iso: String,
    pub when: String,
    pub status_label: &'static str,
}

/// The latest update of an open incident (by the time it is shown at, as
/// `Standing` decides); `None` once it is resolved.
pub fn latest(view: &IncidentView, today: &Today) -> Option<LatestVm> {
    if view.is_resolved() {
        return None;
    }
    let u = view.updates.last()?;
    Some(LatestVm {
        id: u.model.id,
        iso: time::iso(u.model.display_at, today.tz),
        when: today.when(u.model.display_at),
        status_label: u.status.label(),
    })
}

/// An incident in progress as the front page shows it: where it stands now,
/// its latest update first, and the way to the whole story.
#[derive(Debug, Serialize)]
pub struct InProgressVm {
    pub id: i32,
    pub path: String,
    pub title: String,
    pub status_label: &'static str,
    pub impact: &'static str,
    pub components: Vec<ChangeVm>,
    pub latest: UpdateVm,
    /// How many updates the whole story has, the first post included.
    pub updates: usize,
    pub started: TimeVm,
    pub started_when: String,
    pub promise: Option<PromiseVm>,
    pub integrity: Option<IntegrityVm>,
    pub milestones: Option<MilestonesVm>,
}

pub fn in_progress(view: &IncidentView, now: DateTime<Utc>, today: &Today) -> Option<InProgressVm> {
    let latest = view.updates.last()?;
    let first = view.updates.len() == 1;
    Some(InProgressVm {
        id: view.model.id,
        path: format!("incidents/{}", view.model.id),
        title: view.model.title.clone(),
        status_label: view.status.label(),
        impact: view.impact.as_str(),
        components: view.affected_components().iter().map(change_vm).collect(),
        latest: update_vm(latest, None, first, today.tz, today.date),
        updates: view.updates.len(),
        started: time_vm(view.model.started_at, today.tz),
        started_when: today.when(view.model.started_at),
        promise: promise_vm(view, now, today),
        integrity: view.integrity.as_ref().map(|d| integrity_vm(d, today.tz)),
        milestones: milestones_vm(&view.milestones, today.tz),
    })
}

/// A scheduled maintenance as the page's section shows it: its window in the
/// reader's zone, what it puts under maintenance, its latest word.
#[derive(Debug, Serialize)]
pub struct MaintenanceVm {
    pub id: i32,
    pub path: String,
    pub title: String,
    pub status_label: &'static str,
    pub status: &'static str,
    pub from: TimeVm,
    pub until: TimeVm,
    /// "Mar 8, 1:00 AM EST", read against today.
    pub from_when: String,
    pub until_when: String,
    pub components: Vec<String>,
    pub body_html: String,
}

pub fn maintenance(view: &IncidentView, today: &Today) -> Option<MaintenanceVm> {
    let window = view.window()?;
    let latest = view.updates.last()?;
    Some(MaintenanceVm {
        id: view.model.id,
        path: format!("incidents/{}", view.model.id),
        title: view.model.title.clone(),
        status_label: view.status.label(),
        status: view.status.as_str(),
        from: time_vm(window.from, today.tz),
        until: time_vm(window.until, today.tz),
        from_when: today.when(window.from),
        until_when: today.when(window.until),
        components: crate::store::maintenance::planned_names(view),
        body_html: markdown::to_safe_html(&latest.model.body),
    })
}

/// Whether the front page's past days list it: not a window still to come,
/// nor one called off before it opened.
pub fn listed_as_past(view: &IncidentView) -> bool {
    !view.is_maintenance()
        || !(view.status == crate::domain::IncidentStatus::Scheduled || view.is_cancelled())
}

/// One of the front page's days, and the incidents that started on it.
#[derive(Debug, Serialize)]
pub struct PastDayVm {
    pub heading: String,
    pub incidents: Vec<PastVm>,
}

/// An incident collapsed to its title, where it stands and when it last moved.
#[derive(Debug, Serialize)]
pub struct PastVm {
    pub id: i32,
    pub path: String,
    pub display_title: String,
    pub resolved: bool,
    pub status_label: &'static str,
    pub impact: &'static str,
    pub last_iso: String,
    /// Read against the day it is listed under.
    pub last_when: String,
}

/// Every one of `days` (newest first) under its heading, with the incidents of
/// `incidents` that started on it, newest first.
pub fn past_days(incidents: &[&IncidentView], days: &[NaiveDate], tz: Tz) -> Vec<PastDayVm> {
    days.iter()
        .map(|day| {
            let mut on_day: Vec<&IncidentView> = incidents
                .iter()
                .copied()
                .filter(|i| time::local_date(i.model.started_at, tz) == *day)
                .collect();
            on_day.sort_by_key(|i| std::cmp::Reverse((i.model.started_at, i.model.id)));
            PastDayVm {
                heading: time::day_heading(*day),
                incidents: on_day
                    .into_iter()
                    .map(|i| PastVm {
                        id: i.model.id,
                        path: format!("incidents/{}", i.model.id),
                        display_title: display_title(i),
                        resolved: i.is_resolved(),
                        status_label: i.status.label(),
                        impact: i.impact.as_str(),
                        last_iso: time::iso(i.last_update_at(), tz),
                        last_when: time::on_day(i.last_update_at(), tz, *day),
                    })
                    .collect(),
            }
        })
        .collect()
}

/// When what a page shows last changed: a component, or an update of one of
/// its incidents. `None` for a page that shows nothing yet.
pub fn last_changed<'a>(
    components: &[ComponentView],
    incidents: impl IntoIterator<Item = &'a IncidentView>,
) -> Option<DateTime<Utc>> {
    components
        .iter()
        .map(|c| c.model.updated_at)
        .chain(incidents.into_iter().map(IncidentView::last_update_at))
        .max()
}

/// Posts grouped under their date headings, keeping order.
#[derive(Debug, Serialize)]
pub struct DayVm {
    pub heading: String,
    pub posts: Vec<PostVm>,
}

pub fn by_heading(posts: Vec<PostVm>, heading: impl Fn(&PostVm) -> String) -> Vec<DayVm> {
    let mut days: Vec<DayVm> = Vec::new();
    for p in posts {
        let h = heading(&p);
        match days.last_mut() {
            Some(d) if d.heading == h => d.posts.push(p),
            _ => days.push(DayVm {
                heading: h,
                posts: vec![p],
            }),
        }
    }
    days
}

#[derive(Debug, Serialize)]
pub struct ComponentVm {
    pub id: i32,
    pub name: String,
    pub description: String,
    pub group: Option<String>,
    pub position: i32,
    pub status: &'static str,
    pub label: &'static str,
}

pub fn components(list: &[ComponentView]) -> Vec<ComponentVm> {
    list.iter()
        .map(|c| ComponentVm {
            id: c.model.id,
            name: c.model.name.clone(),
            description: c.model.description.clone(),
            group: c.group.as_ref().map(|g| g.name.clone()),
            position: c.model.position,
            status: c.status.as_str(),
            label: c.status.label(),
        })
        .collect()
}
