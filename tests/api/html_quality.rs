//! Every page a reader or a staff member sees is valid HTML5 and usable with a
//! screen reader: one h1 and no skipped heading levels, a label for every
//! control, a language, and a Content-Security-Policy on every response.
//! The Nu HTML Checker (vnu.jar, from the npm package vnu-jar) validates the
//! pages as served, and axe-core (npm `axe-core`) audits each in Chromium on a
//! desktop and a phone, with a screenshot of each; `.ci/run` installs them.
use std::path::{Path, PathBuf};

use scraper::{ElementRef, Html, Selector};

use crate::helpers::{
    client, csrf_token, runs, spawn_app_with, target_dir, tool_available, TestApp, ADMIN_EMAIL,
};

struct Page {
    name: String,
    status: u16,
    csp: Option<String>,
    html: String,
}

async fn fetch(name: &str, res: reqwest::Response) -> Page {
    Page {
        name: name.to_owned(),
        status: res.status().as_u16(),
        csp: res
            .headers()
            .get("content-security-policy")
            .map(|v| v.to_str().unwrap().to_owned()),
        html: res.text().await.unwrap(),
    }
}

/// Every page there is, each in the state that shows the most markup.
async fn all_pages(app: &TestApp) -> Vec<Page> {
    let mut pages = Vec::new();
    let anon = client();

    // The one-time setup page, while the link is still unused.
    let setup_link = app
        .setup_link
        .clone()
        .expect("a fresh app offers a setup link");
    pages.push(fetch("setup", anon.get(&setup_link).send().await.unwrap()).await);
    let token = csrf_token(&pages[0].html);
    let res = anon
        .post(&setup_link)
        .form(&[
            ("csrf_token", token.as_str()),
            ("email", "not an email"),
            ("name", ""),
            ("password", "short"),
            ("password_confirm", "other"),
        ])
        .send()
        .await
        .unwrap();
    pages.push(fetch("setup-errors", res).await);

    pages.push(
        fetch(
            "login",
            anon.get(app.url("/admin/login")).send().await.unwrap(),
        )
        .await,
    );
    let token = csrf_token(&pages.last().unwrap().html);
    let res = anon
        .post(app.url("/admin/login"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("email", ADMIN_EMAIL),
            ("password", "wrong password"),
        ])
        .send()
        .await
        .unwrap();
    pages.push(fetch("login-failed", res).await);

    app.sign_in_admin().await;
    let api = app.add_component("API").await;
    app.add_component("Website").await;
    // The admin incident page then shows deliveries: sent (mail as .eml files)
    // and dead (a loopback webhook is refused), with the retry button.
    crate::notify_support::email_subscriber(&app.db, "reader@example.com", &[]).await;
    crate::notify_support::webhook_subscriber(
        &app.db,
        "http://127.0.0.1:9/",
        "ops@example.com",
        &[],
    )
    .await;
    let open = app
        .publish(
            "Elevated error rates",
            "identified",
            "Requests to the **API** fail for some users.\n\n- EU region\n- US region\n\nSee [our notes](https://example.com/notes) and `retry`.",
            &[
                (format!("component_{api}").as_str(), "partial_outage"),
                // A promise, a data box and milestones, so their markup is checked too.
                ("next_update", "30"),
                ("data_from", "2008-02-28T06:00"),
                ("data_until", "2008-02-28T12:00"),
                ("data_restored_to", "2008-02-28T06:00"),
                ("data_loss", "confirmed"),
                ("reader_actions", "Resend the downloads of orders placed this morning."),
                ("milestones", "Restore the backup\nVerify"),
            ],
        )
        .await;
    let res = app
        .post_form(
            &format!("/admin/incidents/{open}"),
            &format!("/admin/incidents/{open}/milestones/1/complete"),
            &[],
        )
        .await;
    assert_eq!(res.status(), 303);
    // A corrected first post, so the "Corrected" line and the kept original are checked.
    let first = statuspost::store::incidents::load(&app.db, open)
        .await
        .unwrap()
        .unwrap()
        .updates[0]
        .model
        .id;
    let res = app
        .post_form(
            &format!("/admin/incidents/{open}"),
            &format!("/admin/incidents/{open}/updates/{first}/correct"),
            &[
                ("corrected_update", first.to_string().as_str()),
                (
                    "corrected_message",
                    "Requests to the **API** fail for some EU users.",
                ),
                ("action", "correct"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let resolved = app
        .publish("Slow dashboard", "investigating", "Looking into it.", &[])
        .await;
    let res = app
        .post_update(resolved, "resolved", "Fixed *for good*.", &[])
        .await;
    assert_eq!(res.status(), 303);
    // A maintenance ahead, told to nobody yet (so the deliveries stay as counted).
    let api_box = api.to_string();
    let mut maintenance_form = vec![
        ("title", "Database upgrade"),
        ("scheduled_for", "2030-03-08T05:00"),
        ("scheduled_until", "2030-03-08T01:00"),
        ("impact", "maintenance"),
        ("components", api_box.as_str()),
        ("message", "Checkout pauses for **ten minutes**."),
        ("remind", "60"),
        ("auto_in_progress", "on"),
        ("auto_completed", "on"),
        ("action", "publish"),
    ];
    let res = app
        .post_form(
            "/admin/maintenance/new",
            "/admin/maintenance",
            &maintenance_form,
        )
        .await;
    pages.push(fetch("admin-new-maintenance-errors", res).await);
    maintenance_form[2] = ("scheduled_until", "2030-03-08T09:00");
    let res = app
        .post_form(
            "/admin/maintenance/new",
            "/admin/maintenance",
            &maintenance_form,
        )
        .await;
    assert_eq!(res.status(), 303);
    let maintenance: i32 = res.headers()["location"]
        .to_str()
        .unwrap()
        .trim_start_matches("/admin/incidents/")
        .split('?')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    // A weekly one: its occurrence's page names the series, with a way to stop it.
    maintenance_form[0] = ("title", "Weekly patching");
    maintenance_form.push(("recurrence", "FREQ=WEEKLY"));
    let res = app
        .post_form(
            "/admin/maintenance/new",
            "/admin/maintenance",
            &maintenance_form,
        )
        .await;
    assert_eq!(res.status(), 303);
    let occurrence = res.headers()["location"]
        .to_str()
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    // Its edit form refused, with the text as typed beside the errors.
    let admin_maintenance = format!("/admin/incidents/{maintenance}");
    let res = app
        .post_form(
            &admin_maintenance,
            &format!("{admin_maintenance}/maintenance"),
            &[
                ("title", "Database upgrade"),
                ("scheduled_for", "2030-03-08T05:00"),
                ("scheduled_until", "2030-03-08T04:00"),
                ("remind", "60"),
                ("action", "save"),
            ],
        )
        .await;
    pages.push(fetch("admin-maintenance-edit-errors", res).await);
    app.deliver().await;
    let all = crate::notify_support::all_deliveries(&app.db).await;
    assert!(all.len() == 6 && all.iter().all(|d| d.status != "pending"));
    // A published postmortem under the resolved incident, on its public and
    // admin pages and its editor.
    let postmortem = format!("/admin/incidents/{resolved}/postmortem");
    let res = app
        .post_form(
            &postmortem,
            &postmortem,
            &[
                (
                    "postmortem",
                    "## Timeline\n\n- 12:30 a *bad* deploy\n- 12:38 rolled back",
                ),
                ("action", "publish"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    // A template, so the incident forms offer one.
    let res = app
        .post_form(
            "/admin/templates",
            "/admin/templates",
            &[
                ("name", "Slow API"),
                ("title", "{component} degraded"),
                ("status", "identified"),
                ("impact", "major"),
                ("message", "Since {start}, **{component}** is slow."),
                (format!("component_{api}").as_str(), "degraded_performance"),
                ("notify", "on"),
                ("action", "save"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let template = statuspost::store::templates::list(&app.db).await.unwrap()[0]
        .model
        .id;

    for (name, path) in [
        ("index", "/".to_owned()),
        ("incident", format!("/incidents/{resolved}")),
        ("incident-open", format!("/incidents/{open}")),
        ("history", "/history".to_owned()),
        ("history-zone", "/history?tz=America/New_York".to_owned()),
        ("uptime", "/uptime".to_owned()),
        ("time-zone", format!("/time-zone?back=/incidents/{open}")),
        ("maintenance", format!("/incidents/{maintenance}")),
        ("admin-new-maintenance", "/admin/maintenance/new".to_owned()),
        (
            "admin-new-maintenance-from-template",
            format!("/admin/maintenance/new?template={template}"),
        ),
        (
            "admin-maintenance",
            format!("/admin/incidents/{maintenance}"),
        ),
        (
            "admin-cancel-maintenance",
            format!("/admin/incidents/{maintenance}/cancel"),
        ),
        ("admin-maintenance-occurrence", occurrence.clone()),
        ("admin-stop-series", format!("{occurrence}/stop-series")),
        ("not-found", "/no/such/page".to_owned()),
        ("admin-incidents", "/admin".to_owned()),
        ("admin-new-incident", "/admin/incidents/new".to_owned()),
        ("admin-incident", format!("/admin/incidents/{open}")),
        (
            "admin-incident-resolved",
            format!("/admin/incidents/{resolved}"),
        ),
        ("admin-postmortem", postmortem.clone()),
        ("admin-templates", "/admin/templates".to_owned()),
        ("admin-template", format!("/admin/templates/{template}")),
        (
            "admin-template-delete",
            format!("/admin/templates/{template}/delete"),
        ),
        (
            "admin-new-incident-template",
            format!("/admin/incidents/new?template={template}"),
        ),
        (
            "admin-incident-template",
            format!("/admin/incidents/{open}?template={template}"),
        ),
        ("admin-components", "/admin/components".to_owned()),
        (
            "admin-components-done",
            "/admin/components?done=component-saved".to_owned(),
        ),
        (
            "admin-component-delete",
            format!("/admin/components/{api}/delete"),
        ),
        ("admin-staff", "/admin/staff".to_owned()),
        ("admin-tokens", "/admin/tokens".to_owned()),
        ("admin-backups", "/admin/backups".to_owned()),
    ] {
        pages.push(fetch(name, app.get(&path).await).await);
    }

    // Forms shown again with what was typed and the errors.
    let res = app
        .post_form(
            "/admin/incidents/new",
            "/admin/incidents",
            &[
                ("title", ""),
                ("status", "investigating"),
                ("impact", "bogus"),
                ("message", "Draft **text**"),
                (format!("component_{api}").as_str(), "on_fire"),
                // A browser sends only well-formed times; this one is in the future.
                ("started_at", "2999-01-01T00:00"),
                ("action", "publish"),
            ],
        )
        .await;
    pages.push(fetch("admin-new-incident-errors", res).await);
    let res = app
        .post_form(
            &format!("/admin/incidents/{open}"),
            &format!("/admin/incidents/{open}/updates"),
            &[
                ("status", "monitoring"),
                ("message", "A fix is *rolling out*."),
                ("action", "preview"),
            ],
        )
        .await;
    pages.push(fetch("admin-update-preview", res).await);
    // The editor of a draft, with a preview, an error and the sign-in fields
    // of an expired session all at once.
    let draft = format!("/admin/incidents/{open}/postmortem");
    let res = app
        .post_form(
            &draft,
            &draft,
            &[
                ("postmortem", "Too early: *not resolved*."),
                ("action", "preview"),
            ],
        )
        .await;
    pages.push(fetch("admin-postmortem-preview", res).await);
    let res = app
        .post_form(
            &draft,
            &draft,
            &[
                ("postmortem", "Too early: *not resolved*."),
                ("action", "save"),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    pages.push(fetch("admin-postmortem-errors", res).await);
    let res = app
        .post_form(
            "/admin/templates",
            "/admin/templates",
            &[
                ("name", ""),
                ("title", "Kept"),
                ("status", "bogus"),
                ("impact", "minor"),
                ("message", "A *kept* message."),
                (format!("component_{api}").as_str(), "on_fire"),
                ("action", "save"),
            ],
        )
        .await;
    pages.push(fetch("admin-templates-errors", res).await);
    let res = app
        .post_form(
            "/admin/components",
            &format!("/admin/components/{api}"),
            &[
                ("name", ""),
                ("group", ""),
                ("position", "first"),
                ("status", "operational"),
                ("description", ""),
            ],
        )
        .await;
    pages.push(fetch("admin-component-errors", res).await);

    // Subscribing, with the components to choose from.
    pages.push(fetch("subscribe", app.get("/subscribe").await).await);
    let res = app
        .post_form(
            "/subscribe",
            "/subscribe/email",
            &[
                ("email", "not an address"),
                ("components", &api.to_string()),
            ],
        )
        .await;
    pages.push(fetch("subscribe-errors", res).await);
    let res = app
        .post_form(
            "/subscribe",
            "/subscribe/webhook",
            &[("webhook_url", "ftp://x"), ("email", "")],
        )
        .await;
    pages.push(fetch("subscribe-webhook-errors", res).await);
    pages.push(fetch("subscribe-sent", app.get("/subscribe/sent").await).await);
    let res = app
        .post_form(
            "/subscribe",
            "/subscribe/webhook",
            &[
                ("webhook_url", "https://hooks.example.com/status"),
                ("email", "ops@example.com"),
            ],
        )
        .await;
    pages.push(fetch("subscribe-webhook-secret", res).await);
    pages.push(
        fetch(
            "subscribe-confirm-invalid",
            app.get("/subscribe/confirm/unknown").await,
        )
        .await,
    );
    let signup = statuspost::store::subscribers::subscribe_email(
        &app.db,
        &statuspost::domain::EmailAddress::parse("confirm-page@example.com").unwrap(),
        &[],
    )
    .await
    .unwrap();
    let statuspost::store::subscribers::EmailSignup::Confirm { token, .. } = signup else {
        panic!("a new address gets a token");
    };
    let confirm = format!("/subscribe/confirm/{token}");
    pages.push(fetch("subscribe-confirm", app.get(&confirm).await).await);
    let res = app.client.post(app.url(&confirm)).send().await.unwrap();
    pages.push(fetch("subscribe-confirmed", res).await);
    let hook = statuspost::store::subscribers::search(&app.db, "hooks.example.com", 0, 1)
        .await
        .unwrap()
        .0
        .remove(0);
    let unsubscribe = format!("/unsubscribe/{}", hook.model.unsubscribe_token);
    pages.push(fetch("unsubscribe", app.get(&unsubscribe).await).await);
    let manage = format!("/subscription/{}", hook.model.unsubscribe_token);
    pages.push(fetch("subscription", app.get(&manage).await).await);
    let saved = format!("{manage}?saved=1");
    pages.push(fetch("subscription-saved", app.get(&saved).await).await);
    let res = client().post(app.url(&manage)).send().await.unwrap();
    pages.push(fetch("subscription-stale", res).await);
    let unknown = "/subscription/unknown";
    pages.push(fetch("subscription-unknown", app.get(unknown).await).await);
    pages.push(fetch("admin-subscribers", app.get("/admin/subscribers").await).await);
    let res = app
        .post_form(
            "/admin/subscribers",
            "/admin/subscribers",
            &[("email", "nope"), ("webhook_url", "nope")],
        )
        .await;
    pages.push(fetch("admin-subscribers-errors", res).await);
    let page = app.get_html("/admin/subscribers").await;
    let rotate = crate::helpers::attr(&page, "form[action$='/rotate']", "action").unwrap();
    let res = app
        .client
        .post(app.url(&rotate))
        .form(&[("csrf_token", csrf_token(&page).as_str())])
        .send()
        .await
        .unwrap();
    pages.push(fetch("admin-subscribers-secret", res).await);
    let confirm = crate::helpers::attr(&page, "a[href$='/delete']", "href").unwrap();
    pages.push(fetch("admin-subscriber-delete", app.get(&confirm).await).await);
    let res = client().post(app.url(&unsubscribe)).send().await.unwrap();
    pages.push(fetch("unsubscribed", res).await);
    pages.push(fetch("subscription-unsubscribed", app.get(&manage).await).await);
    let res = app
        .post_form(
            "/admin/tokens",
            "/admin/tokens",
            &[("name", "deploy script"), ("scope", "write")],
        )
        .await;
    pages.push(fetch("admin-token-created", res).await);
    pages
}

fn select<'a>(doc: &'a Html, css: &str) -> Vec<ElementRef<'a>> {
    doc.select(&Selector::parse(css).unwrap()).collect()
}

/// What is wrong with a page for a screen reader user; empty when nothing is.
fn accessibility_problems(page: &Page) -> Vec<String> {
    let mut problems = Vec::new();
    let doc = Html::parse_document(&page.html);

    match select(&doc, "html")
        .first()
        .and_then(|h| h.value().attr("lang"))
    {
        Some(lang) if !lang.trim().is_empty() => {}
        _ => problems.push("<html> has no lang".into()),
    }
    match &page.csp {
        Some(csp) if csp.contains("default-src") => {}
        other => problems.push(format!("Content-Security-Policy is {other:?}")),
    }

    let levels: Vec<u8> = select(&doc, "h1, h2, h3, h4, h5, h6")
        .iter()
        .map(|h| h.value().name()[1..].parse().unwrap())
        .collect();
    let h1s = levels.iter().filter(|l| **l == 1).count();
    if h1s != 1 {
        problems.push(format!("{h1s} h1 headings (headings: {levels:?})"));
    }
    if levels.first() != Some(&1) {
        problems.push(format!("the first heading is not h1: {levels:?}"));
    }
    for pair in levels.windows(2) {
        if pair[1] > pair[0] + 1 {
            problems.push(format!(
                "h{} follows h{}, skipping a level (headings: {levels:?})",
                pair[1], pair[0]
            ));
        }
    }

    let labelled: Vec<&str> = select(&doc, "label[for]")
        .iter()
        .filter(|l| !l.text().collect::<String>().trim().is_empty())
        .filter_map(|l| l.value().attr("for"))
        .collect();
    for control in select(&doc, "input, select, textarea") {
        let el = control.value();
        if matches!(
            el.attr("type"),
            Some("hidden" | "submit" | "button" | "reset" | "image")
        ) {
            continue;
        }
        let by_for = el.attr("id").is_some_and(|id| labelled.contains(&id));
        let by_aria = ["aria-label", "aria-labelledby"]
            .iter()
            .any(|a| el.attr(a).is_some_and(|v| !v.trim().is_empty()));
        let wrapped = control
            .ancestors()
            .filter_map(ElementRef::wrap)
            .any(|a| a.value().name() == "label");
        if !(by_for || by_aria || wrapped) {
            problems.push(format!(
                "unlabelled <{} name={:?} id={:?}>",
                el.name(),
                el.attr("name"),
                el.attr("id")
            ));
        }
    }
    for button in select(&doc, "button") {
        if button.text().collect::<String>().trim().is_empty()
            && button.value().attr("aria-label").is_none()
        {
            problems.push("a button without text".into());
        }
    }
    problems
}

#[tokio::test]
async fn every_page_is_accessible_and_valid_html5() {
    // all_pages steps the worker itself.
    let app = spawn_app_with(&crate::notify_support::STEPPED).await;
    let pages = all_pages(&app).await;

    let expected_status = |name: &str| match name {
        "not-found" | "subscription-unknown" => 404,
        "subscription-stale" => 403,
        "setup-errors"
        | "admin-new-incident-errors"
        | "admin-component-errors"
        | "admin-new-maintenance-errors"
        | "admin-maintenance-edit-errors" => 422,
        "admin-postmortem-errors" | "admin-templates-errors" => 422,
        "login-failed" => 401,
        "subscribe-errors" | "subscribe-webhook-errors" | "admin-subscribers-errors" => 422,
        "subscribe-confirm-invalid" => 410,
        _ => 200,
    };
    let mut problems = Vec::new();
    for page in &pages {
        assert_eq!(
            page.status,
            expected_status(&page.name),
            "{}:\n{}",
            page.name,
            page.html
        );
        for p in accessibility_problems(page) {
            problems.push(format!("{}: {p}", page.name));
        }
    }
    assert!(
        problems.is_empty(),
        "accessibility problems:\n{}",
        problems.join("\n")
    );
    // On the front page today's incidents sit under its date heading, newest first.
    let index = pages.iter().find(|p| p.name == "index").unwrap();
    assert_eq!(
        crate::helpers::texts(&index.html, ".day h4"),
        ["Slow dashboard (Resolved)", "Elevated error rates"]
    );
    // The error pages must still show what was typed and why it failed.
    let errors = pages
        .iter()
        .find(|p| p.name == "admin-new-incident-errors")
        .unwrap();
    assert!(errors.html.contains("aria-invalid=\"true\""));
    assert!(errors.html.contains("Draft **text**"));

    let dir = app.dir.0.join("html");
    std::fs::create_dir_all(&dir).unwrap();
    let mut files = Vec::new();
    for page in &pages {
        let file = dir.join(format!("{}.html", page.name));
        // Read from this folder, in a browser too.
        let html = page
            .html
            .replace("href=\"/assets/style.css\"", "href=\"style.css\"");
        std::fs::write(&file, html).unwrap();
        files.push(file);
    }
    let css = dir.join("style.css");
    std::fs::write(
        &css,
        app.get("/assets/style.css").await.text().await.unwrap(),
    )
    .unwrap();
    check_html(&files, &css);
    audit_in_chromium(&pages, &dir).await;
}

/// The Nu HTML Checker finds no error in the pages or the style sheet.
fn check_html(pages: &[PathBuf], css: &Path) {
    let Some(jar) = vnu_jar() else { return };
    let out = std::process::Command::new("java")
        .arg("-jar")
        .arg(&jar)
        .args(["--errors-only", "--also-check-css"])
        .args(pages)
        .arg(css)
        .output()
        .expect("java runs");
    let report =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && report.trim().is_empty(),
        "the Nu HTML Checker found errors in {} pages:\n{report}",
        pages.len()
    );
}

/// Each page in Chromium on a desktop and a phone: axe-core finds no serious
/// or critical violation at either width, and each leaves a screenshot in
/// target/screenshots/pages/.
async fn audit_in_chromium(pages: &[Page], dir: &Path) {
    if !crate::chromium::chromium_available() {
        return;
    }
    let Some(axe) = crate::chromium::axe_source() else {
        return;
    };
    let shots = crate::chromium::screenshot_dir("pages");
    let driver = crate::chromium::ChromeDriver::start();
    let profile = crate::helpers::TempDir::new();
    let c = driver.browser(&profile.0).await;
    let mut problems = Vec::new();
    for (width, height, screen) in [(1280, 900, "desktop"), (375, 800, "phone")] {
        c.set_window_size(width, height).await.unwrap();
        for page in pages {
            let file = dir.join(format!("{}.html", page.name));
            c.goto(&format!("file://{}", file.display())).await.unwrap();
            for v in crate::chromium::axe_violations(&c, &axe).await {
                problems.push(format!("{} ({screen}): {v}", page.name));
            }
            let png = c.screenshot().await.unwrap();
            std::fs::write(shots.join(format!("{}-{screen}.png", page.name)), png).unwrap();
        }
    }
    let _ = c.close().await;
    assert!(
        problems.is_empty(),
        "axe-core found {} serious or critical violations:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// vnu.jar from VNU_JAR, else where `.ci/run` puts it.
fn vnu_jar() -> Option<PathBuf> {
    let jar = std::env::var_os("VNU_JAR")
        .map(PathBuf::from)
        .unwrap_or_else(|| target_dir().join("ci-tools/node_modules/vnu-jar/build/dist/vnu.jar"));
    let found = jar.is_file() && runs("java", "-version");
    tool_available(
        found,
        &format!("the Nu HTML Checker ({}) or java", jar.display()),
        "npm install --ignore-scripts --prefix target/ci-tools vnu-jar (and a Java runtime), or set VNU_JAR",
    )
    .then_some(jar)
}

/// WCAG relative luminance of "#rrggbb".
fn luminance(hex: &str) -> f64 {
    let hex = hex.trim_start_matches('#');
    assert_eq!(hex.len(), 6, "colour #{hex}");
    let channel = |i: usize| {
        let c = u8::from_str_radix(&hex[i..i + 2], 16).unwrap() as f64 / 255.0;
        if c <= 0.03928 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * channel(0) + 0.7152 * channel(2) + 0.0722 * channel(4)
}

fn contrast(a: &str, b: &str) -> f64 {
    let (la, lb) = (luminance(a), luminance(b));
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}

#[tokio::test]
async fn text_colours_meet_wcag_aa_contrast() {
    // all_pages steps the worker itself.
    let app = spawn_app_with(&crate::notify_support::STEPPED).await;
    let css = app.get("/assets/style.css").await.text().await.unwrap();
    // The palette is the custom properties in :root.
    let var = |name: &str| -> String {
        let start = css
            .find(&format!("--{name}:"))
            .unwrap_or_else(|| panic!("--{name} in style.css"));
        let rest = &css[start + name.len() + 3..];
        rest[..rest.find(';').unwrap()].trim().to_owned()
    };
    let white = "#ffffff".to_owned();
    // (text, background, where), each pair as the stylesheet puts them together.
    let mut pairs = vec![
        (var("fg"), var("bg"), "body text"),
        (var("muted"), var("bg"), "muted text, footer"),
        (var("accent"), var("bg"), "links, secondary buttons"),
        (white.clone(), var("accent"), "primary buttons"),
        (var("fg"), "#f6f8fa".to_owned(), "code blocks"),
        (var("fg"), "#fff5f5".to_owned(), "alerts"),
        (var("fg"), "#f3fbf5".to_owned(), "notices"),
        (
            var("fg"),
            "#eef1f4".to_owned(),
            "calendar days without data",
        ),
        (
            var("critical"),
            "#fff5f5".to_owned(),
            "field errors in alerts",
        ),
    ];
    for status in ["ok", "minor", "major", "critical", "maint"] {
        pairs.push((var(status), var("bg"), "status text and badges"));
        pairs.push((white.clone(), var(status), "banner"));
    }
    let mut failures = Vec::new();
    for (fg, bg, place) in &pairs {
        let ratio = contrast(fg, bg);
        // 4.5:1 is AA for normal text; the badges and help text are small.
        if ratio < 4.5 {
            failures.push(format!("{place}: {fg} on {bg} is {ratio:.2}:1"));
        }
    }
    assert!(failures.is_empty(), "below 4.5:1:\n{}", failures.join("\n"));
    // The arithmetic itself: black on white is 21:1, a colour on itself 1:1.
    assert!((contrast("#000000", "#ffffff") - 21.0).abs() < 0.01);
    assert!((contrast("#57606a", "#57606a") - 1.0).abs() < 0.001);
}

#[test]
fn the_checker_finds_what_it_looks_for() {
    let page = Page {
        name: "bad".into(),
        status: 200,
        csp: None,
        html: "<!doctype html><html><body><h2>A</h2><h4>B</h4>\
               <input name=q><label for=q2></label><input id=q2><button></button></body></html>"
            .into(),
    };
    let problems = accessibility_problems(&page).join("\n");
    for expected in [
        "no lang",
        "Content-Security-Policy",
        "0 h1",
        "not h1",
        "h4 follows h2",
        "name=Some(\"q\")",
        "id=Some(\"q2\")",
        "button without text",
    ] {
        assert!(problems.contains(expected), "{expected} in:\n{problems}");
    }
}
