//! Atom 1.0 and RSS 2.0 feeds of incidents, written by crates that escape XML
//! for us. One entry per incident; its content is the whole post, every update.
use chrono::{DateTime, Utc};

use super::views::{self, PostVm};
use crate::render::statuspage::PageInfo;
use crate::store::incidents::IncidentView;

/// The post as HTML: every update under its heading, oldest first as the page
/// reads. Bodies are the page's sanitised HTML; the rest is escaped here.
fn post_html(post: &PostVm) -> String {
    let esc = tera::escape_html;
    let mut out = String::new();
    // What a reader of the page sees first reads first in the feed too.
    if let Some(w) = &post.window {
        out.push_str(&format!(
            "<p><strong>{}:</strong> {} to {}</p>\n",
            if w.cancelled {
                "Cancelled maintenance"
            } else {
                "Scheduled maintenance"
            },
            esc(&w.from.date_time),
            esc(&w.until.date_time)
        ));
    }
    if let Some(d) = &post.integrity {
        out.push_str("<p><strong>Your data</strong></p>\n<ul>\n");
        if let Some(l) = d.loss_label {
            out.push_str(&format!("<li>{}</li>\n", esc(l)));
        }
        if let (Some(f), Some(u)) = (&d.from, &d.until) {
            out.push_str(&format!(
                "<li>Affected data: from {} to {}</li>\n",
                esc(&f.date_time),
                esc(&u.date_time)
            ));
        }
        if let Some(r) = &d.restored_to {
            out.push_str(&format!(
                "<li>Restored to the backup of {}</li>\n",
                esc(&r.date_time)
            ));
        }
        for a in &d.actions {
            out.push_str(&format!("<li>What you need to do: {}</li>\n", esc(a)));
        }
        out.push_str("</ul>\n");
    }
    for u in &post.updates {
        let heading = if u.first {
            format!("{} - {}", u.at.date_time, u.status_label)
        } else {
            u.heading.clone()
        };
        out.push_str(&format!("<p><strong>{}</strong></p>\n", esc(&heading)));
        out.push_str(&u.body_html);
        if let Some(c) = &u.corrected {
            out.push_str(&format!(
                "<p><em>Corrected {}</em></p>\n",
                esc(&c.at.date_time)
            ));
        }
        if !u.components.is_empty() {
            let list: Vec<String> = u
                .components
                .iter()
                .map(|c| format!("{}: {}", esc(&c.name), esc(c.label)))
                .collect();
            out.push_str(&format!("<p>Affected: {}</p>\n", list.join(", ")));
        }
        if !u.author.is_empty() {
            out.push_str(&format!("<p>Posted by {}</p>\n", esc(&u.author)));
        }
    }
    if let Some(pm) = &post.postmortem {
        out.push_str(&format!(
            "<p><strong>Postmortem - {}</strong></p>\n",
            esc(&pm.published.date_time)
        ));
        out.push_str(&pm.body_html);
    }
    out
}

fn title(post: &PostVm) -> String {
    post.display_title.clone()
}

/// The feed's own update time: the latest update of any entry, else `fallback`.
fn feed_updated(incidents: &[IncidentView], fallback: DateTime<Utc>) -> DateTime<Utc> {
    incidents
        .iter()
        .map(IncidentView::last_change_at)
        .max()
        .unwrap_or(fallback)
}

/// An Atom 1.0 document; `self_path` is where it is served (e.g. "feed.atom").
pub fn atom(
    info: &PageInfo,
    incidents: &[IncidentView],
    self_path: &str,
    fallback: DateTime<Utc>,
) -> String {
    use atom_syndication::{Content, Entry, Feed, Link, Person, Text};
    let tz = info.zone().tz();
    let link = |href: String, rel: &str, mime: Option<&str>| {
        let mut l = Link::default();
        l.set_href(href);
        l.set_rel(rel);
        l.set_mime_type(mime.map(str::to_owned));
        l
    };
    let entries: Vec<Entry> = incidents
        .iter()
        .map(|i| {
            let post = views::post(i, tz);
            let url = info.link(&post.path);
            let mut content = Content::default();
            content.set_content_type(Some("html".to_owned()));
            content.set_value(Some(post_html(&post)));
            let mut e = Entry::default();
            e.set_title(Text::plain(title(&post)));
            e.set_id(url.clone());
            e.set_updated(i.last_change_at().fixed_offset());
            e.set_published(Some(i.model.started_at.fixed_offset()));
            e.set_links(vec![link(url, "alternate", Some("text/html"))]);
            let mut author = Person::default();
            author.set_name(if i.author_name.is_empty() {
                info.name.clone()
            } else {
                i.author_name.clone()
            });
            e.set_authors(vec![author]);
            e.set_content(Some(content));
            e
        })
        .collect();
    let mut feed = Feed::default();
    feed.set_title(Text::plain(format!("{} incidents", info.name)));
    feed.set_id(info.url.clone());
    feed.set_updated(feed_updated(incidents, fallback).fixed_offset());
    feed.set_links(vec![
        link(info.url.clone(), "alternate", Some("text/html")),
        link(info.link(self_path), "self", Some("application/atom+xml")),
    ]);
    let mut author = Person::default();
    author.set_name(info.name.clone());
    feed.set_authors(vec![author]);
    feed.set_entries(entries);
    feed.to_string()
}

/// An RSS 2.0 document. An item's `pubDate` is its latest update's time (or
/// its postmortem's), so a reader sees an incident move when it is updated.
pub fn rss(info: &PageInfo, incidents: &[IncidentView], fallback: DateTime<Utc>) -> String {
    use rss::{Channel, Guid, Item};
    let tz = info.zone().tz();
    let items: Vec<Item> = incidents
        .iter()
        .map(|i| {
            let post = views::post(i, tz);
            let url = info.link(&post.path);
            let mut guid = Guid::default();
            guid.set_value(url.clone());
            guid.set_permalink(true);
            let mut item = Item::default();
            item.set_title(Some(title(&post)));
            item.set_link(Some(url));
            item.set_guid(Some(guid));
            item.set_pub_date(Some(rfc2822(i.last_change_at())));
            item.set_description(Some(post_html(&post)));
            item
        })
        .collect();
    let mut channel = Channel::default();
    channel.set_title(format!("{} incidents", info.name));
    channel.set_link(info.url.clone());
    channel.set_description(format!("Incidents and their updates on {}", info.name));
    channel.set_last_build_date(Some(rfc2822(feed_updated(incidents, fallback))));
    channel.set_generator(Some("statuspost".to_owned()));
    channel.set_docs(Some(
        "https://www.rssboard.org/rss-specification".to_owned(),
    ));
    channel.set_items(items);
    channel.to_string()
}

/// RSS's date format. chrono's `to_rfc2822` panics on years it cannot write;
/// the store refuses such years, and a row from before that rule still renders.
fn rfc2822(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%a, %d %b %Y %H:%M:%S +0000").to_string()
}
