//! The binary as an operator runs it.
use std::io::Write;
use std::process::{Command, Stdio};

use crate::helpers::{TempDir, TestDatabase};

pub fn statuspost(db: &TestDatabase, dir: &TempDir) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_statuspost"));
    cmd.current_dir(&dir.0)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", &db.url)
        .env("RUST_LOG", "warn")
        // Scheduled backups only where a test asks (`scheduled_backups.rs`).
        .env("STATUSPOST_BACKUP_EVERY", "off");
    cmd
}

#[test]
fn help_documents_every_command() {
    let out = Command::new(env!("CARGO_BIN_EXE_statuspost"))
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    for cmd in ["serve", "migrate", "user", "demo"] {
        assert!(help.contains(cmd), "{cmd} missing from:\n{help}");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_statuspost"))
        .args(["user", "add", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    assert!(
        help.contains("--email") && help.contains("--name") && help.contains("--admin"),
        "{help}"
    );
}

#[tokio::test]
async fn user_add_reads_the_password_from_stdin() {
    let dir = TempDir::new();
    let db = TestDatabase::new(&dir).await;
    let mut child = statuspost(&db, &dir)
        .args([
            "user",
            "add",
            "--email",
            "ops@example.com",
            "--name",
            "Ops Person",
            "--admin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"a long enough password\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "added Ops Person <ops@example.com> (admin)"
    );

    let conn = statuspost::store::connect(&db.url).await.unwrap();
    let ok =
        statuspost::store::staff::authenticate(&conn, "ops@example.com", "a long enough password")
            .await
            .unwrap();
    assert!(ok.is_some_and(|s| s.is_admin));

    // A short password is refused with a clear line.
    let mut child = statuspost(&db, &dir)
        .args(["user", "add", "--email", "b@example.com", "--name", "B"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"short\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 10 characters"));
}

#[tokio::test]
async fn demo_runs_twice_without_duplicating() {
    let dir = TempDir::new();
    let db = TestDatabase::new(&dir).await;
    let first = statuspost(&db, &dir).arg("demo").output().unwrap();
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let said = String::from_utf8_lossy(&first.stdout);
    assert!(said.contains("loaded the demo incident"), "{said}");
    // The next steps: how to serve, and how to make the first admin.
    assert!(said.contains("statuspost serve"), "{said}");
    assert!(said.contains("statuspost user add"), "{said}");
    let second = statuspost(&db, &dir).arg("demo").output().unwrap();
    assert!(second.status.success());
    assert!(String::from_utf8_lossy(&second.stdout).contains("already loaded"));
}

#[test]
fn a_bad_setting_stops_start_up_with_one_clear_line() {
    let dir = TempDir::new();
    let out = Command::new(env!("CARGO_BIN_EXE_statuspost"))
        .current_dir(&dir.0)
        .env("STATUSPOST_TIMEZONE", "Mars/Olympus")
        .env("RUST_LOG", "off")
        .arg("serve")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("Unknown time zone \"Mars/Olympus\""), "{err}");

    let out = Command::new(env!("CARGO_BIN_EXE_statuspost"))
        .current_dir(&dir.0)
        .env("DATABASE_URL", "postgres://nobody:secret@127.0.0.1:1/none")
        .env("RUST_LOG", "off")
        .args(["serve", "--bind", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        err.contains("cannot open the database at postgres://nobody:***@127.0.0.1:1/none"),
        "{err}"
    );
    assert!(
        !err.contains("secret"),
        "the password is never printed: {err}"
    );
}

#[tokio::test]
async fn migrate_brings_a_new_database_up_to_date() {
    let dir = TempDir::new();
    let db = TestDatabase::new(&dir).await;
    let out = statuspost(&db, &dir).arg("migrate").output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "database is up to date"
    );
}

/// `statuspost serve` on a free port in `dir`, with its default SQLite file
/// there and its log on a pipe.
pub fn serve_in(dir: &TempDir) -> std::process::Child {
    serve_command(dir).spawn().unwrap()
}

/// [`serve_in`]'s command, for a test that sets more of its environment.
pub fn serve_command(dir: &TempDir) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_statuspost"));
    cmd.current_dir(&dir.0)
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "info")
        .args(["serve", "--bind", "127.0.0.1:0"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    cmd
}

#[tokio::test]
async fn serve_runs_from_any_folder_and_creates_its_database() {
    use std::io::BufRead;
    let dir = TempDir::new();
    let mut child = serve_in(&dir);
    // The log says which port it got and how to make the first admin.
    let mut lines = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let mut log = String::new();
    let port: u16 = loop {
        let line = lines
            .next()
            .expect("the server logs before it serves")
            .unwrap();
        log.push_str(&line);
        log.push('\n');
        if line.contains("statuspost is serving") {
            break line.rsplit("port=").next().unwrap().trim().parse().unwrap();
        }
    };
    let res = crate::helpers::client()
        .get(format!("http://127.0.0.1:{port}/"))
        .send()
        .await;
    child.kill().unwrap();
    child.wait().unwrap();
    let page = res.expect("the server answered").text().await.unwrap();
    assert!(page.contains("All Systems Operational"));
    assert!(page.contains("/assets/style.css"));
    assert!(
        dir.0.join("statuspost.db").exists(),
        "the SQLite file is created on first start"
    );
    assert!(
        log.contains(&format!(
            "Create the first admin at http://127.0.0.1:{port}/admin/setup/"
        )),
        "{log}"
    );
}

#[tokio::test]
async fn serve_keeps_tokens_out_of_its_log_and_its_database_private() {
    use std::io::BufRead;
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new();
    let mut child = serve_in(&dir);
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr).lines() {
            let _ = tx.send(line.unwrap());
        }
    });
    let next_line = || {
        rx.recv_timeout(std::time::Duration::from_secs(30))
            .expect("the server keeps logging")
    };
    let (mut port, mut setup) = (0u16, String::new());
    while port == 0 {
        let line = next_line();
        if let Some(at) = line.find("/admin/setup/") {
            setup = line[at..].split_whitespace().next().unwrap().to_owned();
        }
        if line.contains("statuspost is serving") {
            port = line.rsplit("port=").next().unwrap().trim().parse().unwrap();
        }
    }
    let token = setup.trim_start_matches("/admin/setup/").to_owned();
    assert_eq!(token.len(), 43, "{setup}");
    let other = statuspost::secrets::random_token();
    let client = crate::helpers::client();
    for path in [
        setup.clone(),
        format!("/subscribe/confirm/{other}"),
        format!("/unsubscribe/{other}"),
    ] {
        client
            .get(format!("http://127.0.0.1:{port}{path}"))
            .send()
            .await
            .unwrap();
    }
    let mut access = Vec::new();
    while access.len() < 3 {
        let line = next_line();
        if line.contains(" GET /") {
            access.push(line);
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    for line in &access {
        assert!(!line.contains(&token) && !line.contains(&other), "{line}");
        assert!(line.contains("[redacted]"), "{line}");
    }
    let mode = std::fs::metadata(dir.0.join("statuspost.db"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "the database is its owner's alone");
}
