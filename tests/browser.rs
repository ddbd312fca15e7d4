//! The staff flow in a real browser: headless Chromium driven through
//! chromedriver. Create the first admin from the setup link, sign out and in,
//! add a component, preview and publish an incident, update it, read it on a
//! phone (its latest update on the first screen), resolve it (its component
//! back to operational), and read the public page on a desktop and a phone.
//! Each step leaves a screenshot in target/screenshots/flow/.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`.ci/run` installs them).
//! Without them the test fails in CI and is skipped, loudly, elsewhere.
#[path = "api/chromium.rs"]
mod chromium;
#[path = "api/helpers.rs"]
mod helpers;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use chromium::{chromium_available, screenshot_dir, ChromeDriver};
use fantoccini::{elements::Element, Client, Locator};
use helpers::{spawn_app, TempDir};
use statuspost::domain::{ComponentName, ComponentStatus};
use statuspost::store;

const EMAIL: &str = "robin@example.com";
const NAME: &str = "Robin Ops";
const PASSWORD: &str = "a long enough passphrase";

struct Steps<'a> {
    c: &'a Client,
    base: String,
    shots: PathBuf,
    n: u32,
}

impl Steps<'_> {
    async fn goto(&self, path: &str) {
        self.c.goto(&format!("{}{path}", self.base)).await.unwrap();
    }

    async fn shot(&mut self, name: &str) {
        self.n += 1;
        let png = self.c.screenshot().await.unwrap();
        std::fs::write(self.shots.join(format!("{:02}-{name}.png", self.n)), png).unwrap();
    }

    /// The control a `<label>` with exactly this text names.
    async fn field(&self, label: &str) -> Element {
        self.labelled(&format!("//label[normalize-space()='{label}']"))
            .await
    }

    async fn labelled(&self, label_xpath: &str) -> Element {
        let label = self
            .c
            .find(Locator::XPath(label_xpath))
            .await
            .unwrap_or_else(|e| panic!("a label {label_xpath}: {e}"));
        let id = label.attr("for").await.unwrap().expect("label has for");
        self.c
            .find(Locator::Id(&id))
            .await
            .unwrap_or_else(|e| panic!("the control #{id}: {e}"))
    }

    async fn fill(&self, label: &str, text: &str) {
        let input = self.field(label).await;
        input.clear().await.unwrap();
        input.send_keys(text).await.unwrap();
    }

    async fn button(&self, text: &str) {
        self.c
            .find(Locator::XPath(&format!(
                "//button[starts-with(normalize-space(), '{text}')]"
            )))
            .await
            .unwrap_or_else(|e| panic!("a button {text}: {e}"))
            .click()
            .await
            .unwrap();
    }

    async fn path(&self) -> String {
        self.c.current_url().await.unwrap().path().to_owned()
    }

    /// Waits for the browser to land on a path that `ok` accepts.
    async fn wait_path(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let path = self.path().await;
            if ok(&path) {
                return path;
            }
            assert!(Instant::now() < deadline, "never reached {what}; at {path}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn text(&self, css: &str) -> String {
        self.c
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"))
            .text()
            .await
            .unwrap()
    }

    async fn texts(&self, css: &str) -> Vec<String> {
        let mut out = Vec::new();
        for e in self.c.find_all(Locator::Css(css)).await.unwrap() {
            out.push(e.text().await.unwrap());
        }
        out
    }

    /// Waits for an element that the page after a click will have.
    async fn wait_for(&self, css: &str, what: &str) -> Result<Element, String> {
        self.c
            .wait()
            .at_most(Duration::from_secs(15))
            .for_element(Locator::Css(css))
            .await
            .map_err(|e| format!("{what} ({css}) never showed: {e}"))
    }

    /// Whether an element matching `css` has this text now; false while the
    /// page is still being replaced.
    async fn has_text(&self, css: &str, text: &str) -> bool {
        let Ok(found) = self.c.find_all(Locator::Css(css)).await else {
            return false;
        };
        for e in found {
            if e.text().await.is_ok_and(|t| t == text) {
                return true;
            }
        }
        false
    }

    /// Waits until an element matching `css` has this text (the page after a
    /// submit has replaced the one before).
    async fn wait_text(&self, css: &str, text: &str) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(15);
        while !self.has_text(css, text).await {
            if Instant::now() > deadline {
                return Err(format!("{text:?} never showed in {css}"));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(())
    }

    /// Where the first incident in progress's update starts, where its text
    /// starts, and the height of the screen, in CSS pixels from the top.
    async fn latest_update_position(&self) -> (f64, f64, f64) {
        let v = self
            .c
            .execute(
                "const u = document.querySelector('.in-progress .update');
                 const b = u.querySelector('.body');
                 return [u.getBoundingClientRect().top, b.getBoundingClientRect().top,
                         window.innerHeight];",
                vec![],
            )
            .await
            .unwrap();
        let n = |i: usize| v[i].as_f64().expect("a number");
        (n(0), n(1), n(2))
    }

    /// Fails when the page is wider than the window (a horizontal scroll bar).
    async fn assert_no_horizontal_scroll(&self, page: &str) {
        let widths = self
            .c
            .execute(
                "return [document.documentElement.scrollWidth, document.documentElement.clientWidth];",
                vec![],
            )
            .await
            .unwrap();
        let (scroll, client) = (widths[0].as_u64().unwrap(), widths[1].as_u64().unwrap());
        assert!(
            scroll <= client,
            "{page} scrolls sideways on a phone: {scroll}px of content in {client}px"
        );
    }
}

/// "UPDATE 8:15 PM EST - Issue Resolved", whatever the time (the page is in New York's zone).
fn is_resolved_heading(text: &str) -> bool {
    let Some(rest) = text.strip_prefix("UPDATE ") else {
        return false;
    };
    let Some(when) = rest.strip_suffix(" - Issue Resolved") else {
        return false;
    };
    // "Mar 1, 12:05 AM UTC" when the update came a day after the post.
    let clock = when.rsplit(", ").next().unwrap_or(when);
    let mut parts = clock.split(' ');
    let (Some(hm), Some(ampm), Some(zone), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let Some((h, m)) = hm.split_once(':') else {
        return false;
    };
    h.parse::<u8>().is_ok_and(|h| (1..=12).contains(&h))
        && m.len() == 2
        && m.parse::<u8>().is_ok_and(|m| m < 60)
        && matches!(ampm, "AM" | "PM")
        && matches!(zone, "EST" | "EDT")
}

#[test]
fn resolved_heading_shape() {
    assert!(is_resolved_heading("UPDATE 12:38 PM EST - Issue Resolved"));
    assert!(!is_resolved_heading("UPDATE 12:38 PM UTC - Issue Resolved"));
    assert!(!is_resolved_heading("UPDATE 12:38 PM EST - Monitoring"));
    assert!(!is_resolved_heading("UPDATE 13:38 PM EDT - Issue Resolved"));
    assert!(is_resolved_heading(
        "UPDATE Mar 1, 12:05 AM EDT - Issue Resolved"
    ));
}

#[tokio::test]
async fn staff_publish_and_resolve_an_incident_in_chromium() {
    if !chromium_available() {
        return;
    }
    let app = spawn_app().await;
    let driver = ChromeDriver::start();
    let profile = TempDir::new();
    let c = driver.browser(&profile.0).await;
    let mut s = Steps {
        c: &c,
        base: app.address.clone(),
        shots: screenshot_dir("flow"),
        n: 0,
    };
    let outcome = flow(&mut s, &app).await;
    // Close the browser whatever happened, then report.
    let _ = c.close().await;
    drop(driver);
    outcome.unwrap_or_else(|e| panic!("{e}"));
}

async fn flow(s: &mut Steps<'_>, app: &helpers::TestApp) -> Result<(), String> {
    // The first admin comes from the one-time link the server logs at start.
    let setup = app.setup_link.clone().ok_or("no setup link")?;
    s.c.goto(&setup).await.unwrap();
    assert_eq!(s.text("h1").await, "Create your account");
    s.fill("Email", EMAIL).await;
    s.fill("Display name", NAME).await;
    s.fill("Password", PASSWORD).await;
    s.fill("Password again", PASSWORD).await;
    // The page's zone, by city; every time on the page reads in it.
    s.field("Page time zone")
        .await
        .select_by_value("America/New_York")
        .await
        .unwrap();
    s.shot("setup").await;
    s.button("Create account").await;
    s.wait_path("/admin", |p| p == "/admin").await;
    assert_eq!(s.text("h1").await, "Incidents");

    // Sign out, and back in through the login form.
    s.button("Sign out").await;
    s.wait_path("/admin/login", |p| p == "/admin/login").await;
    s.fill("Email", EMAIL).await;
    s.fill("Password", PASSWORD).await;
    s.shot("sign-in").await;
    s.button("Sign in").await;
    s.wait_path("/admin", |p| p == "/admin").await;

    s.goto("/admin/components").await;
    s.fill("Name", "API").await;
    s.button("Add component").await;
    s.wait_for("form.component-form", "the added component")
        .await?;
    s.shot("components").await;
    // The rest of a page with six components, added as the form does.
    for name in ["Website", "Payments", "Search", "Email", "Mobile app"] {
        let input = store::components::ComponentInput {
            name: ComponentName::parse(name).unwrap(),
            description: String::new(),
            group: None,
            position: 1,
            status: ComponentStatus::Operational,
            uptime: None,
        };
        store::components::create(&app.db, input).await.unwrap();
    }

    s.c.find(Locator::LinkText("New incident"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    s.wait_path("/admin/incidents/new", |p| p == "/admin/incidents/new")
        .await;
    s.fill("Title", "Sign-in failures").await;
    s.field("Status")
        .await
        .select_by_value("identified")
        .await
        .unwrap();
    s.field("Impact")
        .await
        .select_by_value("major")
        .await
        .unwrap();
    s.labelled("//fieldset//label[starts-with(normalize-space(), 'API')]")
        .await
        .select_by_value("partial_outage")
        .await
        .unwrap();
    s.fill(
        "Message",
        "Some people **cannot sign in**.\n\n- on the web\n- in the mobile app\n\nWe are on it.",
    )
    .await;
    s.button("Preview").await;
    s.wait_for(".preview", "the preview").await?;
    assert_eq!(s.text(".preview strong").await, "cannot sign in");
    assert_eq!(
        s.texts(".preview li").await,
        ["on the web", "in the mobile app"]
    );
    assert_eq!(s.text(".preview .signature").await, NAME);
    // The form keeps everything typed for the real publish.
    let title = s.field("Title").await.prop("value").await.unwrap();
    assert_eq!(title.as_deref(), Some("Sign-in failures"));
    s.shot("preview").await;

    s.button("Publish").await;
    let admin_page = s
        .wait_path("the incident's admin page", |p| {
            p.strip_prefix("/admin/incidents/")
                .is_some_and(|id| id.parse::<i32>().is_ok())
        })
        .await;
    assert_eq!(s.text("h1").await, "Sign-in failures");
    s.shot("published").await;

    s.goto("/").await;
    assert_eq!(s.text(".banner .overall").await, "Partial System Outage");
    // The zone chosen at setup, named at the top of the page.
    assert_eq!(
        s.text("header.site a[href^='/time-zone']").await,
        "Time zone: New York"
    );
    assert_eq!(s.text("#open-heading").await, "Incidents in progress");
    s.shot("public-open").await;

    s.goto(&admin_page).await;
    s.field("Status")
        .await
        .select_by_value("monitoring")
        .await
        .unwrap();
    s.fill(
        "Message",
        "We rolled the change back and are watching sign-ins.",
    )
    .await;
    // Promise the next update: readers see when to look again.
    s.field("Promise the next update")
        .await
        .select_by_value("30")
        .await
        .unwrap();
    s.button("Post update").await;
    s.wait_text(
        ".update .body",
        "We rolled the change back and are watching sign-ins.",
    )
    .await?;
    let promised = s.text("p.promise").await;
    assert!(promised.starts_with("Next update by "), "{promised:?}");

    // A typo in the first post, corrected once it was sent: the page marks it
    // and keeps the original.
    s.c.find(Locator::Css("details.correct summary"))
        .await
        .map_err(|e| format!("the correction form: {e}"))?
        .click()
        .await
        .unwrap();
    s.fill(
        "Corrected text",
        "Some users cannot sign in since the 2 PM change; we are on it.",
    )
    .await;
    s.shot("correct").await;
    s.button("Save the correction").await;
    s.wait_text(
        ".update .body",
        "Some users cannot sign in since the 2 PM change; we are on it.",
    )
    .await?;
    s.goto(&admin_page.replacen("/admin", "", 1)).await;
    let corrected = s.text(".update.first .corrected").await;
    assert!(corrected.starts_with("Corrected "), "{corrected:?}");
    assert_eq!(s.text("p.promise").await, promised);
    s.shot("corrected").await;

    // A reader on a phone, on a bad day with six components: the open
    // incident's latest update is on the first screen.
    s.c.set_window_size(375, 800).await.unwrap();
    s.goto("/").await;
    let (top, body_top, screen) = s.latest_update_position().await;
    assert!(
        top >= 0.0 && body_top + 24.0 <= screen,
        "the latest update starts at {top} px (its text at {body_top} px) of a {screen} px screen"
    );
    assert_eq!(
        s.text(".in-progress .update .body").await,
        "We rolled the change back and are watching sign-ins."
    );
    s.assert_no_horizontal_scroll("/").await;
    s.shot("phone-public-open").await;
    s.c.set_window_size(1200, 1500).await.unwrap();

    // Resolving sets the components it affected back; the form says so.
    s.goto(&admin_page).await;
    assert_eq!(
        s.text("#resolve-help").await,
        "On Resolved, affected components return to Operational unless you set them here."
    );
    s.field("Status")
        .await
        .select_by_value("resolved")
        .await
        .unwrap();
    s.fill("Message", "Everyone can sign in again.").await;
    s.button("Post update").await;
    s.wait_text(".update .body", "Everyone can sign in again.")
        .await?;
    assert_eq!(s.text("h1").await, "Sign-in failures (Resolved)");
    s.shot("resolved").await;

    // What a reader sees.
    s.goto("/").await;
    assert_eq!(s.text(".banner .overall").await, "All Systems Operational");
    assert_eq!(
        s.texts(".past h4").await,
        ["Sign-in failures (Resolved)"],
        "the resolved incident is listed under its day"
    );
    let statuses = s.texts(".components .cs").await;
    assert_eq!(statuses.len(), 6);
    assert!(statuses.iter().all(|c| c == "Operational"), "{statuses:?}");
    // API's bar for today tells what happened, without a mouse: open the
    // day list by keyboard and read it.
    let days =
        s.c.find(Locator::Css("#uptime-1 .uptime-days summary"))
            .await
            .map_err(|e| format!("API's uptime day list: {e}"))?;
    days.send_keys(" ").await.unwrap();
    let today = s.text("#uptime-1 .uptime-days li").await;
    assert!(
        today.contains("Partial outage") && today.contains("Sign-in failures (Resolved)"),
        "API's day reads {today:?}"
    );
    s.shot("public-resolved").await;

    s.c.find(Locator::LinkText("Sign-in failures (Resolved)"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    s.wait_path("the public incident page", |p| p.starts_with("/incidents/"))
        .await;
    assert_eq!(s.text("h1").await, "Sign-in failures (Resolved)");
    let title = s.c.title().await.unwrap();
    assert!(title.starts_with("Sign-in failures (Resolved)"), "{title}");
    let headings = s.texts(".update-heading").await;
    let last = headings.last().cloned().unwrap_or_default();
    assert!(is_resolved_heading(&last), "update headings: {headings:?}");
    assert_eq!(s.texts(".post .signature").await, [NAME, NAME, NAME]);
    assert_eq!(
        s.texts(".update:last-child .changes li").await,
        ["API: Operational"]
    );
    s.shot("public-incident").await;

    // Planned work: scheduled from the admin, shown to readers apart from
    // incidents, the banner still calm.
    s.goto("/admin/maintenance/new").await;
    s.fill("Title", "Database upgrade").await;
    // A datetime-local control's typing depends on the browser's locale: set
    // its value as a picker would.
    s.c.execute(
        "document.getElementById('scheduled_for').value = '2030-03-08T05:00';
         document.getElementById('scheduled_until').value = '2030-03-08T09:00';",
        vec![],
    )
    .await
    .unwrap();
    s.labelled("//label[normalize-space()='API']")
        .await
        .click()
        .await
        .unwrap();
    s.fill("Message", "Checkout pauses for ten minutes.").await;
    s.shot("schedule-maintenance").await;
    s.button("Schedule").await;
    s.wait_for(".notice", "the scheduled notice").await?;
    s.goto("/").await;
    assert_eq!(
        s.text("#maintenance-heading").await,
        "Scheduled maintenance"
    );
    assert_eq!(s.text(".maintenance h3").await, "Database upgrade");
    let window = s.text(".maintenance .meta").await;
    assert!(
        window.contains("Mar 8, 2030, 5:00 AM EST") && window.contains("API"),
        "the window in the page's zone: {window}"
    );
    assert_eq!(s.text(".banner .overall").await, "All Systems Operational");
    s.shot("public-maintenance").await;

    // A phone: everything fits the width.
    s.c.set_window_size(390, 844).await.unwrap();
    for (path, name) in [
        ("/", "phone-public"),
        ("/history", "phone-history"),
        (admin_page.as_str(), "phone-admin-incident"),
        ("/admin/incidents/new", "phone-new-incident"),
    ] {
        s.goto(path).await;
        s.assert_no_horizontal_scroll(path).await;
        s.shot(name).await;
    }
    Ok(())
}
