//! `statuspost demo`: loads a real incident post so a newcomer sees a real page.
//!
//! The post is the seed document, read as staff would have typed it: a date, a
//! title, the first message, and an appended "UPDATE 12:38 PM EST - ..." section,
//! each signed by its author.
use anyhow::{anyhow, Context};
use chrono::{NaiveDate, NaiveTime, TimeZone};
use chrono_tz::Tz;
use sea_orm::DatabaseConnection;
use serde_json::json;

use crate::domain::{
    DataIntegrity, DataLoss, Impact, IncidentStatus, IncidentTitle, MilestoneTitle, ReaderAction,
    UpdateBody,
};
use crate::store::{
    self,
    audit::{Actor, Entry, Subject},
    incidents::{NewIncident, NewUpdate},
};

const SEED: &str = include_str!("seed.txt");
const SEED_KEY: &str = "seed:000_1ff5b3423293ec8a";
pub const DEMO_ZONE: &str = "America/New_York";

/// The seed document, taken apart.
#[derive(Debug)]
pub struct SeedPost {
    pub date: NaiveDate,
    pub title: String,
    pub first_message: String,
    pub update_time: NaiveTime,
    pub update_status: IncidentStatus,
    pub update_message: String,
    pub author: String,
}

/// Splits a message from the signature line that closes it ("Regards,\n\nShannon").
fn split_signature(text: &str) -> (String, String) {
    let text = text.trim();
    match text.rsplit_once("\n\n") {
        Some((body, sig)) if !sig.contains('\n') && sig.len() < 60 => {
            (body.trim().to_owned(), sig.trim().to_owned())
        }
        _ => (text.to_owned(), String::new()),
    }
}

pub fn parse(doc: &str) -> anyhow::Result<SeedPost> {
    let doc = doc.replace("\r\n", "\n");
    let mut lines = doc.lines().filter(|l| !l.trim().is_empty());
    let date_line = lines.next().ok_or_else(|| anyhow!("empty seed"))?;
    let date =
        NaiveDate::parse_from_str(date_line.trim(), "%A, %B %-d, %Y").context("seed date")?;
    let title_line = lines.next().ok_or_else(|| anyhow!("no title"))?.trim();
    let title = title_line.trim_end_matches("(Resolved)").trim().to_owned();
    let after_title = doc
        .split_once(title_line)
        .map(|(_, r)| r)
        .ok_or_else(|| anyhow!("no body"))?;
    let (first, rest) = after_title
        .split_once("\n---")
        .ok_or_else(|| anyhow!("no update separator"))?;
    let rest = rest.trim_start_matches('-').trim_start();
    let (heading, update) = rest
        .split_once('\n')
        .ok_or_else(|| anyhow!("no update heading"))?;
    // "UPDATE 12:38 PM EST - Issue Resolved"
    let heading = heading
        .trim()
        .strip_prefix("UPDATE ")
        .ok_or_else(|| anyhow!("bad update heading"))?;
    let (when, label) = heading
        .split_once(" - ")
        .ok_or_else(|| anyhow!("bad update heading"))?;
    let clock = when.rsplit_once(' ').map(|(t, _zone)| t).unwrap_or(when);
    let update_time = NaiveTime::parse_from_str(clock, "%I:%M %p").context("update time")?;
    let update_status = IncidentStatus::ALL
        .into_iter()
        .find(|s| s.label() == label.trim())
        .ok_or_else(|| anyhow!("unknown status {label}"))?;
    let (first_message, author) = split_signature(first);
    let (update_message, _) = split_signature(update);
    Ok(SeedPost {
        date,
        title,
        first_message,
        update_time,
        update_status,
        update_message,
        author,
    })
}

/// Loads the seed incident; returns false when it was already there.
pub async fn load(db: &DatabaseConnection, zone_configured: bool) -> anyhow::Result<bool> {
    if store::incidents::find_by_seed_key(db, SEED_KEY)
        .await?
        .is_some()
    {
        return Ok(false);
    }
    let post = parse(SEED)?;
    if !zone_configured {
        // The post's times are Eastern; show them so unless an operator chose a zone.
        store::settings::get_or_init(db, store::settings::PAGE_TIMEZONE, || DEMO_ZONE.to_owned())
            .await?;
    }
    let eastern: Tz = DEMO_ZONE.parse().expect("a valid zone");
    let local = |t: NaiveTime| {
        eastern
            .from_local_datetime(&post.date.and_time(t))
            .earliest()
            .map(|d| d.with_timezone(&chrono::Utc))
            .ok_or_else(|| anyhow!("time does not exist"))
    };
    // The post does not say when it first went up; the morning the data was restored fits its story.
    let started = local(NaiveTime::from_hms_opt(9, 14, 0).expect("valid"))?;
    let resolved = local(post.update_time)?;

    let at = |h: u32, m: u32| local(NaiveTime::from_hms_opt(h, m, 0).expect("valid"));
    // The day as our features would have told it. The first message promises
    // the next update by 11:00, and the restore overruns it ("we spent far too
    // long looking at ways around the gap"), so the record shows the late update.
    let promised = at(11, 0)?;
    // The resolution goes up with a tired slip, "6:00 PM", and is corrected at
    // 1:05 PM to the seed's own words; the page keeps what it first said.
    let corrected_at = at(13, 5)?;
    let slip =
        post.update_message
            .replacen("earlier today 6:00 AM EST", "earlier today 6:00 PM EST", 1);
    anyhow::ensure!(
        slip != post.update_message,
        "the seed's 6:00 AM backup is gone"
    );
    // What the post tells sellers of their data, as the box at its top: the gap
    // from the 6:00 AM backup to noon, lost, and what to do about its orders.
    let integrity = DataIntegrity {
        from: Some(at(6, 0)?),
        until: Some(at(12, 0)?),
        restored_to: Some(at(6, 0)?),
        loss: Some(DataLoss::Confirmed),
        actions: vec![
            ReaderAction::parse("Orders placed from 6:00 AM to noon EST will not be recovered.")?,
            ReaderAction::parse(
                "Send the downloads to those customers manually with the Add Download Email \
                 link on the Product Detail page in your account.",
            )?,
        ],
    }
    .parse()
    .map_err(|(_, e)| anyhow!(e.0))?;
    // The recovery as the post tells it, each step with the time it was done.
    let steps = [
        (
            "Remove the offending script from the live server",
            at(9, 30)?,
        ),
        (
            "Find a backup without the bad data (the 6:00 AM one)",
            at(10, 45)?,
        ),
        (
            "Restore the whole data set to the 6:00 AM backup",
            at(12, 10)?,
        ),
        ("Verify downloads and file names", at(12, 35)?),
    ];
    let milestones = steps
        .iter()
        .map(|(t, _)| Ok((MilestoneTitle::parse(t)?, false)))
        .collect::<anyhow::Result<Vec<_>>>()?;

    let author = demo_author(db, &post.author).await?;
    let published = store::incidents::create(
        db,
        NewIncident {
            title: IncidentTitle::parse(&post.title)?,
            impact: Impact::Major,
            seed_key: Some(SEED_KEY.to_owned()),
            integrity,
            milestones,
            plan: None,
            update: NewUpdate {
                status: IncidentStatus::Identified,
                body: UpdateBody::parse(&post.first_message)?,
                components: Vec::new(),
                at: started,
                author_id: author,
                notify: false,
                operational_on_resolve: false,
                next_update_by: Some(promised),
            },
        },
    )
    .await?;
    let id = published.incident_id;
    let name = post.author.clone();
    for (i, (_, done)) in steps.iter().enumerate() {
        let who = store::milestones::Ticker {
            name: &name,
            author_id: author,
        };
        store::milestones::complete(db, id, &(i + 1).to_string(), who, *done).await?;
    }
    let resolution = store::incidents::post_update(
        db,
        id,
        NewUpdate {
            status: post.update_status,
            body: UpdateBody::parse(&slip)?,
            components: Vec::new(),
            at: resolved,
            author_id: author,
            notify: false,
            operational_on_resolve: false,
            next_update_by: None,
        },
    )
    .await?;
    let who = store::corrections::Corrector {
        name: &name,
        at: corrected_at,
    };
    let fixed = UpdateBody::parse(&post.update_message)?;
    store::corrections::correct(db, id, resolution.update_id, fixed, who, false).await?;

    // The audit log as staff would find it after that day, at the day's times.
    let actor = Actor::Staff {
        id: author,
        name: name.clone(),
    };
    let subject = Subject::new("incident", id);
    let mut log = vec![(
        started,
        "incident.create",
        "Published the incident, promising the next update by 11:00 AM EST".to_owned(),
        None,
        Some(json!({ "title": post.title, "status": "identified", "next_update_by": promised })),
    )];
    for (title, done) in steps {
        let summary = format!("Marked the milestone {title} done");
        log.push((done, "milestone.complete", summary, None, None));
    }
    log.push((
        resolved,
        "update.post",
        format!("Posted an update ({})", post.update_status.label()),
        None,
        Some(json!({ "status": post.update_status.as_str(), "body": slip })),
    ));
    log.push((
        corrected_at,
        "update.correct",
        format!("Corrected update {}", resolution.update_id),
        Some(json!({ "body": slip })),
        Some(json!({ "body": post.update_message })),
    ));
    for (at, action, summary, before, after) in log {
        let entry = Entry {
            actor: &actor,
            action,
            subject,
            summary,
            before,
            after,
        };
        store::audit::record_at(db, entry, at).await;
    }
    Ok(true)
}

/// The seed's author as a staff member who cannot sign in.
async fn demo_author(db: &DatabaseConnection, name: &str) -> anyhow::Result<i32> {
    let email = format!("{}@demo.invalid", name.to_lowercase());
    if let Some(s) = store::staff::find_by_email(db, &email).await? {
        return Ok(s.id);
    }
    use sea_orm::{ActiveModelTrait, Set};
    let m = crate::entity::staff::ActiveModel {
        email: Set(email),
        name: Set(name.to_owned()),
        // No password hashes to this: the account exists only to sign the demo post.
        password_hash: Set(store::staff::NO_PASSWORD.into()),
        is_admin: Set(false),
        active: Set(false),
        created_at: Set(store::now()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(m.id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_parses_as_the_post_reads() {
        let p = parse(SEED).unwrap();
        assert_eq!(p.date, NaiveDate::from_ymd_opt(2008, 2, 28).unwrap());
        assert_eq!(p.title, "Live Site Issue: File Names");
        assert!(p
            .first_message
            .starts_with("We are working to resolve an issue with downloads"));
        assert!(p.first_message.ends_with("Regards,"));
        assert_eq!(p.author, "Shannon");
        assert_eq!(p.update_time, NaiveTime::from_hms_opt(12, 38, 0).unwrap());
        assert_eq!(p.update_status, IncidentStatus::Resolved);
        assert!(p
            .update_message
            .starts_with("The issue with the file names"));
        assert!(p
            .update_message
            .ends_with("Thank you for bearing with us during this hectic time,"));
    }
}
