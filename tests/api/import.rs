//! `statuspost subscribers import FILE.csv`, run as the real binary against the
//! test's database.
use std::process::{Command, Output};

use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use statuspost::entity::{subscriber, subscriber_component};

use crate::helpers::{spawn_app, TestApp};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

async fn import(app: &TestApp, file: &std::path::Path) -> Output {
    let (dir, url, file) = (app.dir.0.clone(), app.database.url.clone(), file.to_owned());
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
        "FILE",
    ] {
        assert!(help.contains(word), "{word} missing from:\n{help}");
    }
}
