//! `statuspost subscribers import FILE.csv`, run as the real binary against the
//! test's database.
use std::process::{Command, Output};

use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use statuspost::entity::{subscriber, subscriber_component};

use crate::helpers::{spawn_app, TestApp};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

async fn import(app: &TestApp, file: &std::path::Path) -> Output {
    import_with(app, file, &[]).await
}

async fn import_with(app: &TestApp, file: &std::path::Path, flags: &[&str]) -> Output {
    let (dir, url, file) = (app.dir.0.clone(), app.database.url.clone(), file.to_owned());
    let flags: Vec<String> = flags.iter().map(|f| f.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_statuspost"))
            .current_dir(&dir)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("DATABASE_URL", &url)
            .env("RUST_LOG", "warn")
            .arg("subscribers")
            .arg("import")
            .arg(&file)
            .args(&flags)
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn import_adds_good_rows_reports_bad_ones_by_line_and_never_duplicates() {
    let app = spawn_app().await;
    app.sign_in_admin().await;
    let api = app.add_component("API").await;
    let web = app.add_component("Website").await;

    let csv = format!(
        "\u{feff}Email,webhook_url,components,secret\n\
         one@example.com,,,\n\
         not-an-address,,,\n\
         two@example.com,,API; Website,\n\
         ,https://hooks.example.com/a,API,{SECRET}\n\
         ops@example.com,https://hooks.example.com/b,Website,{SECRET}\n\
         three@example.com,,Nope,\n\
         \"four@example.com\",,\"API\",\n\
         ,,,\n\
         ops@example.com,https://hooks.example.com/c,,whsec_short\n\
         five@example.com,,,{SECRET}\n\
         ops@example.com,ftp://hooks.example.com/d,,\n\
         ONE@example.com,,,\n\
         '=six@example.com,,,\n\
         ops@example.com,https://hooks.example.com/e,,\n"
    );
    let file = app.dir.0.join("subscribers.csv");
    std::fs::write(&file, csv).unwrap();

    let out = import(&app, &file).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "bad rows make the exit status say so"
    );
    let reported: Vec<&str> = stderr.lines().filter(|l| l.contains(": line ")).collect();
    let lines: Vec<u64> = reported
        .iter()
        .map(|l| {
            l.split(": line ")
                .nth(1)
                .unwrap()
                .split(':')
                .next()
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect();
    assert_eq!(lines, vec![3, 5, 7, 10, 11, 12], "{stderr}");
    assert!(reported[0].contains("email"), "{stderr}");
    assert!(reported[1].contains("contact"), "{stderr}");
    assert!(reported[2].contains("Nope"), "{stderr}");
    assert!(reported[3].contains("secret"), "{stderr}");
    assert!(reported[4].contains("secret"), "{stderr}");
    assert!(reported[5].contains("webhook_url"), "{stderr}");
    assert!(
        stdout.contains("imported 6 new subscribers") && stdout.contains("1 already subscribed"),
        "{stdout}"
    );

    let all = subscriber::Entity::find()
        .order_by_asc(subscriber::Column::Id)
        .all(&app.db)
        .await
        .unwrap();
    let names: Vec<String> = all
        .iter()
        .map(|s| s.webhook_url.clone().unwrap_or_else(|| s.email.clone()))
        .collect();
    assert_eq!(
        names,
        vec![
            "one@example.com",
            "two@example.com",
            "https://hooks.example.com/b",
            "four@example.com",
            "=six@example.com",
            "https://hooks.example.com/e",
        ]
    );
    assert!(
        all.iter().all(|s| s.confirmed_at.is_some()),
        "imported rows are confirmed"
    );
    let hook = &all[2];
    assert_eq!(hook.kind, "webhook");
    assert_eq!(hook.email, "ops@example.com");
    assert_eq!(hook.secret.as_deref(), Some(SECRET), "the secret is kept");
    let fresh = all[5].secret.clone().unwrap();
    assert!(
        fresh.starts_with("whsec_") && fresh != SECRET,
        "a new secret when none is given"
    );
    let comps = |id: i32| {
        let db = app.db.clone();
        async move {
            let mut v: Vec<i32> = subscriber_component::Entity::find()
                .filter(subscriber_component::Column::SubscriberId.eq(id))
                .all(&db)
                .await
                .unwrap()
                .into_iter()
                .map(|r| r.component_id)
                .collect();
            v.sort();
            v
        }
    };
    assert_eq!(comps(all[1].id).await, vec![api, web]);
    assert_eq!(comps(all[2].id).await, vec![web]);
    assert_eq!(comps(all[0].id).await, Vec::<i32>::new());

    // The same file again adds nothing.
    let out = import(&app, &file).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("imported 0 new subscribers") && stdout.contains("7 already subscribed"),
        "{stdout}"
    );
    assert_eq!(subscriber::Entity::find().count(&app.db).await.unwrap(), 6);
}

#[tokio::test]
async fn an_export_imports_back_and_a_good_file_exits_cleanly() {
    let app = spawn_app().await;
    app.sign_in_admin().await;
    app.add_component("API").await;
    let file = app.dir.0.join("good.csv");
    std::fs::write(
        &file,
        "email,components\n=first@example.com,API\nsecond@example.com,\n",
    )
    .unwrap();
    let out = import(&app, &file).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("imported 2 new subscribers"));

    // The export (with its defused cells) reads back as the same subscribers.
    let export = app
        .get("/admin/subscribers.csv")
        .await
        .text()
        .await
        .unwrap();
    assert!(export.contains("'=first@example.com"), "{export}");
    let round = app.dir.0.join("export.csv");
    std::fs::write(&round, &export).unwrap();
    let out = import(&app, &round).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("2 already subscribed"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(subscriber::Entity::find().count(&app.db).await.unwrap(), 2);

    // A file without the columns is refused as a whole.
    let bad = app.dir.0.join("bad.csv");
    std::fs::write(&bad, "name,address\nx,y\n").unwrap();
    let out = import(&app, &bad).await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 1"));
}

/// Each subscriber's address or URL with its state, in id order.
async fn states(app: &TestApp) -> Vec<(String, &'static str)> {
    subscriber::Entity::find()
        .order_by_asc(subscriber::Column::Id)
        .all(&app.db)
        .await
        .unwrap()
        .iter()
        .map(|s| {
            (
                s.webhook_url.clone().unwrap_or_else(|| s.email.clone()),
                statuspost::store::subscribers::state_of(s),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_restored_export_keeps_pending_disabled_and_unsubscribed_subscribers_as_they_were() {
    use statuspost::domain::{EmailAddress, WebhookUrl};
    use statuspost::store::subscribers;
    let app = spawn_app().await;
    app.sign_in_admin().await;
    let email = |s: &str| EmailAddress::parse(s).unwrap();
    subscribers::add_confirmed_email(&app.db, &email("yes@example.com"), &[])
        .await
        .unwrap();
    // Signed up on the form by anyone, never confirmed.
    subscribers::subscribe_email(&app.db, &email("stranger@example.com"), &[])
        .await
        .unwrap();
    let url = WebhookUrl::parse("https://hooks.example.com/gone").unwrap();
    let (hook, _) = subscribers::subscribe_webhook(&app.db, &url, &email("ops@example.com"), &[])
        .await
        .unwrap();
    // As the worker leaves a receiver that answered 410 Gone.
    subscriber::Entity::update(subscriber::ActiveModel {
        id: sea_orm::Set(hook.id),
        disabled_at: sea_orm::Set(Some(chrono::Utc::now())),
        disabled_reason: sea_orm::Set(Some("410 Gone".into())),
        ..Default::default()
    })
    .exec(&app.db)
    .await
    .unwrap();
    // Confirmed once, then left through the link in a mail.
    let left = subscribers::add_confirmed_email(&app.db, &email("left@example.com"), &[])
        .await
        .unwrap();
    assert!(subscribers::unsubscribe(&app.db, &left.unsubscribe_token)
        .await
        .unwrap());
    let before = states(&app).await;
    assert_eq!(
        before.iter().map(|(_, s)| *s).collect::<Vec<_>>(),
        vec!["confirmed", "pending", "disabled", "unsubscribed"]
    );

    let export = app
        .get("/admin/subscribers.csv")
        .await
        .text()
        .await
        .unwrap();
    let file = app.dir.0.join("backup.csv");
    std::fs::write(&file, &export).unwrap();
    let wipe = || async {
        subscriber::Entity::delete_many()
            .exec(&app.db)
            .await
            .unwrap();
    };

    // A restore into an empty database gives back the same states.
    wipe().await;
    let out = import(&app, &file).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(states(&app).await, before);
    assert!(
        stdout.contains(
            "imported 4 new subscribers (1 confirmed, 1 pending, 1 disabled, 1 unsubscribed)"
        ),
        "{stdout}"
    );
    assert_eq!(
        subscribers::count_active(&app.db).await.unwrap(),
        1,
        "only the one who confirmed hears of incidents"
    );
    let pending = subscribers::find_email(&app.db, &email("stranger@example.com"))
        .await
        .unwrap()
        .unwrap();
    assert!(
        pending.confirm_token_hash.is_none(),
        "no link is made for a pending import"
    );

    // Importing it again over subscribers already here changes none of them.
    let out = import(&app, &file).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("3 already subscribed; 1 left unsubscribed"),
        "{stdout}"
    );
    assert_eq!(states(&app).await, before);

    // Nor does a file that lists the one who left as confirmed, not even with
    // --confirm: an old list is no consent given after the unsubscribing.
    let old_list = app.dir.0.join("old.csv");
    std::fs::write(&old_list, "email,status\nleft@example.com,confirmed\n").unwrap();
    let out = import_with(&app, &old_list, &["--confirm"]).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("1 left unsubscribed"), "{stdout}");
    assert_eq!(states(&app).await, before);

    // --confirm is the operator saying the whole list opted in.
    wipe().await;
    let out = import_with(&app, &file, &["--confirm"]).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(
            "imported 4 new subscribers (3 confirmed, 0 pending, 0 disabled, 1 unsubscribed)"
        ),
        "{stdout}"
    );
    assert_eq!(
        states(&app)
            .await
            .iter()
            .map(|(_, s)| *s)
            .collect::<Vec<_>>(),
        vec!["confirmed", "confirmed", "confirmed", "unsubscribed"],
        "all but the one who unsubscribed"
    );

    // A status we do not know is never read as consent, not even with --confirm.
    let odd = app.dir.0.join("odd.csv");
    std::fs::write(
        &odd,
        "email,status\nbounced@example.com,bounced\nblank@example.com,\n",
    )
    .unwrap();
    let out = import_with(&app, &odd, &["--confirm"]).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("line 2: status"), "{stderr}");
    assert!(
        subscribers::find_email(&app.db, &email("bounced@example.com"))
            .await
            .unwrap()
            .is_none()
    );
    // An empty status cell is read as a file without the column: confirmed.
    let blank = subscribers::find_email(&app.db, &email("blank@example.com"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(subscribers::state_of(&blank), "confirmed");
}

#[test]
fn help_names_the_columns() {
    let out = Command::new(env!("CARGO_BIN_EXE_statuspost"))
        .args(["subscribers", "import", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    for word in [
        "email",
        "webhook_url",
        "components",
        "';'",
        "secret",
        "status",
        "--confirm",
        "FILE",
    ] {
        assert!(help.contains(word), "{word} missing from:\n{help}");
    }
}
