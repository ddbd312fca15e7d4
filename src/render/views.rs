//! View models: what a template needs to show an incident, already formatted.
use chrono_tz::Tz;
use serde::Serialize;

use super::{markdown, time};
use crate::store::incidents::IncidentView;

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
}

#[derive(Debug, Serialize)]
pub struct TimeVm {
    pub iso: String,
    pub clock: String,
    pub date_time: String,
}

#[derive(Debug, Serialize)]
pub struct UpdateVm {
    pub id: i32,
    pub first: bool,
    /// "UPDATE 12:38 PM EST - Issue Resolved"
    pub heading: String,
    pub at: TimeVm,
    pub status: &'static str,
    pub status_label: &'static str,
    pub body_html: String,
    pub author: String,
    pub components: Vec<ChangeVm>,
}

#[derive(Debug, Serialize)]
pub struct ChangeVm {
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

pub fn post(view: &IncidentView, tz: Tz) -> PostVm {
    let display_title = if view.is_resolved() {
        format!("{} (Resolved)", view.model.title)
    } else {
        view.model.title.clone()
    };
    let updates = view
        .updates
        .iter()
        .enumerate()
        .map(|(i, u)| UpdateVm {
            id: u.model.id,
            first: i == 0,
            heading: update_heading(u.model.display_at, tz, u.status.label()),
            at: time_vm(u.model.display_at, tz),
            status: u.status.as_str(),
            status_label: u.status.label(),
            body_html: markdown::to_safe_html(&u.model.body),
            author: u.author_name.clone(),
            components: u
                .components
                .iter()
                .map(|c| ChangeVm {
                    name: c.name.clone(),
                    old_status: c.old_status.as_str(),
                    status: c.new_status.as_str(),
                    label: c.new_status.label(),
                })
                .collect(),
        })
        .collect();
    PostVm {
        id: view.model.id,
        path: format!("incidents/{}", view.model.id),
        title: view.model.title.clone(),
        display_title,
        resolved: view.is_resolved(),
        status: view.status.as_str(),
        status_label: view.status.label(),
        impact: view.impact.as_str(),
        date_heading: time::date_heading(view.model.started_at, tz),
        started: time_vm(view.model.started_at, tz),
        resolved_at: view.model.resolved_at.map(|t| time_vm(t, tz)),
        updates,
        components: view
            .affected_components()
            .into_iter()
            .map(|c| ChangeVm {
                name: c.name,
                old_status: c.old_status.as_str(),
                status: c.new_status.as_str(),
                label: c.new_status.label(),
            })
            .collect(),
    }
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

pub fn components(list: &[crate::store::components::ComponentView]) -> Vec<ComponentVm> {
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

/// Zones offered in the reader's picker; any other IANA name works in `?tz=` too.
pub const COMMON_ZONES: &[&str] = &[
    "UTC",
    "America/Los_Angeles",
    "America/Denver",
    "America/Chicago",
    "America/New_York",
    "America/Sao_Paulo",
    "Europe/London",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Moscow",
    "Africa/Johannesburg",
    "Asia/Dubai",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Asia/Shanghai",
    "Asia/Tokyo",
    "Australia/Sydney",
    "Pacific/Auckland",
];
