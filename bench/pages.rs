//! How fast the public pages are served and rendered, and in how much memory.
//!
//! Seeds a database with BENCH_INCIDENTS incidents (default 10,000) of 3
//! updates each, starts the release binary on it and measures from another
//! process's point of view:
//! - cache-miss renders: `/?tz=` in every zone (each a distinct page), random
//!   `/incidents/{id}` and random `/history?page=`, 8 readers at a time;
//! - the server's resident memory after 100,000 distinct URLs;
//! - the cached `/`, `/api/v2/summary.json` and `/feed.atom` under `wrk` at 64,
//!   256 and 1,000 connections, beside nginx
//!   serving the identical bytes in the same run (when `wrk` and `nginx` are
//!   installed; else the cached `/` under 64 readers of our own).
//!
//! Run: `cargo bench --bench pages`. Settings (environment):
//! - `BENCH_INCIDENTS`: how many incidents to seed;
//! - `BENCH_SERVER`: another statuspost binary to measure (e.g. an older build;
//!   the database is migrated by that binary, then seeded with plain SQL);
//! - `BENCH_DATABASE_URL`: a PostgreSQL server to use instead of SQLite (a
//!   database of the bench's own is made on it and dropped after);
//! - `BENCH_WRK_SECONDS`: length of each wrk run (default 10); 0 skips wrk;
//! - `BENCH_KEEP`: keep the folder with the SQLite database, to look at its plans.
use std::io::BufRead;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::seq::SliceRandom;
use sea_orm::{ConnectionTrait, DatabaseBackend, Statement, TransactionTrait, Value};

const READERS: usize = 8;
const DISTINCT_URLS: usize = 100_000;
const HISTORY_PER_PAGE: usize = 20;
const BROWSER_ACCEPT: &str = "gzip, deflate, br";
/// Served under wrk, beside nginx serving the same bytes.
const HOT_PATHS: [&str; 3] = ["/", "/api/v2/summary.json", "/feed.atom"];

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() {
    let incidents: usize = env_or("BENCH_INCIDENTS", 10_000);
    let wrk_seconds: u64 = env_or("BENCH_WRK_SECONDS", 10);
    let server = std::env::var("BENCH_SERVER")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_statuspost").to_owned());
    let dir = std::env::temp_dir().join(format!("statuspost-bench-pages-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (db_url, pg) = database(&dir).await;

    let migrated = Command::new(&server)
        .current_dir(&dir)
        .env("DATABASE_URL", &db_url)
        .arg("migrate")
        .status()
        .expect("the server binary runs");
    assert!(migrated.success(), "migrate");
    let t = Instant::now();
    seed(&db_url, incidents).await;
    let seeded_in = t.elapsed();

    let (mut child, port) = start(&server, &dir, &db_url);
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()
        .unwrap();
    let rss_idle = rss_kib(child.id());

    // Cache misses: every URL below is asked once, so each is a render.
    let zones: Vec<&str> = chrono_tz::TZ_VARIANTS.iter().map(|z| z.name()).collect();
    let front: Vec<String> = zones
        .iter()
        .map(|z| format!("{base}/?tz={}", urlencoding::encode(z)))
        .collect();
    let front_cold = fetch_all(&client, front).await;

    let mut ids: Vec<usize> = (1..=incidents).collect();
    ids.shuffle(&mut rand::thread_rng());
    let permalinks: Vec<String> = ids
        .iter()
        .take(5_000)
        .map(|id| format!("{base}/incidents/{id}"))
        .collect();
    let permalink_cold = fetch_all(&client, permalinks).await;

    let pages = incidents.div_ceil(HISTORY_PER_PAGE);
    let b = base.as_str();
    let mut history: Vec<String> = (1..=pages)
        .flat_map(|p| {
            zones[..4]
                .iter()
                .map(move |z| format!("{b}/history?page={p}&tz={}", urlencoding::encode(z)))
        })
        .collect();
    history.shuffle(&mut rand::thread_rng());
    history.truncate(2_000);
    let history_cold = fetch_all(&client, history).await;

    // Memory after many distinct URLs: incidents in several zones.
    let mut flood: Vec<String> = zones
        .iter()
        .flat_map(|z| {
            (1..=incidents)
                .map(move |id| format!("{b}/incidents/{id}?tz={}", urlencoding::encode(z)))
        })
        .take(DISTINCT_URLS)
        .collect();
    flood.shuffle(&mut rand::thread_rng());
    let flood_run = fetch_all(&client, flood).await;
    let rss_flood = rss_kib(child.id());
    let hwm_flood = hwm_kib(child.id());

    // The cached pages under load, as readers without a zone cookie get them
    // (wrk asks for no encoding, so the plain bytes are what nginx serves too).
    let mut hot = Vec::new();
    for path in HOT_PATHS {
        let bytes = client
            .get(format!("{base}{path}"))
            .header("accept-encoding", "identity")
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap()
            .to_vec();
        hot.push((path, bytes));
    }
    let wrk_rows = if wrk_seconds > 0 && have("wrk") {
        Some(compare_with_nginx(&dir, port, &child, &hot, wrk_seconds).await)
    } else {
        None
    };
    let own_hot = if wrk_rows.is_none() {
        Some(hammer(&client, &format!("{base}/"), 64, 20_000).await)
    } else {
        None
    };
    let rss_after = rss_kib(child.id());
    let hwm = hwm_kib(child.id());
    child.kill().ok();
    child.wait().ok();
    if let Some((server, name)) = pg {
        drop_pg(&server, &name).await;
    }
    if std::env::var_os("BENCH_KEEP").is_some() {
        eprintln!("kept {}", dir.display());
    } else {
        let _ = std::fs::remove_dir_all(&dir);
    }

    let backend = if db_url.starts_with("postgres") {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    println!(
        "statuspost page benchmark: {incidents} incidents x 3 updates, {backend}, {server}, seeded in {:.1} s",
        seeded_in.as_secs_f64()
    );
    println!();
    println!("| cache-miss renders, {READERS} readers | pages | renders/s | p50 | p99 |");
    println!("|---|---|---|---|---|");
    for (name, run) in [
        ("`/?tz=` (each zone once)", &front_cold),
        ("random `/incidents/{id}`", &permalink_cold),
        ("random `/history?page=` (4 zones)", &history_cold),
        ("100,000 distinct `/incidents/{id}?tz=`", &flood_run),
    ] {
        println!(
            "| {name} | {} | {:.0} | {} | {} |",
            run.count,
            run.rate(),
            ms(run.pct(50)),
            ms(run.pct(99))
        );
    }
    println!();
    println!("| memory (RSS) | MiB |");
    println!("|---|---|");
    println!("| idle, after seeding | {} |", rss_idle / 1024);
    println!(
        "| after 100,000 distinct URLs (peak so far) | {} ({}) |",
        rss_flood / 1024,
        hwm_flood / 1024
    );
    println!(
        "| at the end (peak) | {} ({}) |",
        rss_after / 1024,
        hwm / 1024
    );
    println!();
    for (path, bytes) in &hot {
        println!("`{path}`: {} KiB", bytes.len() / 1024);
    }
    if let Some(rows) = wrk_rows {
        println!();
        println!("| cached, wrk {wrk_seconds} s | server | connections | req/s | p50 | p99 | timeouts | errors | server RSS MiB |");
        println!("|---|---|---|---|---|---|---|---|---|");
        for r in rows {
            println!(
                "| `{}` | {} | {} | {:.0} | {} | {} | {} | {} | {} |",
                r.path, r.server, r.connections, r.rate, r.p50, r.p99, r.timeouts, r.errors, r.rss
            );
        }
    }
    if let Some(run) = own_hot {
        println!();
        println!(
            "cached `/`, 64 readers (no wrk): {:.0} req/s, p50 {} p99 {}",
            run.rate(),
            ms(run.pct(50)),
            ms(run.pct(99))
        );
    }
}

/// A SQLite file, or a fresh database on `BENCH_DATABASE_URL`'s server.
async fn database(dir: &std::path::Path) -> (String, Option<(String, String)>) {
    match std::env::var("BENCH_DATABASE_URL") {
        Ok(server) if server.starts_with("postgres") => {
            let name = format!("statuspost_bench_pages_{}", std::process::id());
            let admin = sea_orm::Database::connect(&server).await.unwrap();
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .unwrap();
            admin.close().await.ok();
            let mut url = url::Url::parse(&server).unwrap();
            url.set_path(&name);
            (url.to_string(), Some((server, name)))
        }
        _ => (
            format!("sqlite://{}?mode=rwc", dir.join("bench.db").display()),
            None,
        ),
    }
}

async fn drop_pg(server: &str, name: &str) {
    if let Ok(admin) = sea_orm::Database::connect(server).await {
        let _ = admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await;
        admin.close().await.ok();
    }
}

fn start(server: &str, dir: &std::path::Path, db_url: &str) -> (Child, u16) {
    let mut child = Command::new(server)
        .current_dir(dir)
        .env("DATABASE_URL", db_url)
        .env("STATUSPOST_RUN_WORKER", "false")
        // Logging is measured elsewhere; here the page path alone.
        .env("RUST_LOG", "warn,statuspost=info")
        .args(["serve", "--bind", "127.0.0.1:0"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("release binary");
    let mut lines = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let port: u16 = loop {
        let line = lines.next().expect("server log").unwrap();
        if line.contains("statuspost is serving") {
            break line.rsplit("port=").next().unwrap().trim().parse().unwrap();
        }
    };
    // Keep draining the log so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (child, port)
}

/// Seeds with plain SQL in one transaction, so any version's schema takes it.
async fn seed(url: &str, incidents: usize) {
    let db = sea_orm::Database::connect(url).await.unwrap();
    let backend = db.get_database_backend();
    let txn = db.begin().await.unwrap();
    let now = chrono::Utc::now();
    insert(
        &txn,
        backend,
        "staff",
        &[
            "id",
            "email",
            "name",
            "password_hash",
            "is_admin",
            "active",
            "created_at",
        ],
        vec![vec![
            1.into(),
            "bench@example.com".into(),
            "Shannon".into(),
            "not a hash: nobody signs in".into(),
            true.into(),
            true.into(),
            now.into(),
        ]],
    )
    .await;
    let names = ["Website", "API", "Downloads", "Payments", "Email"];
    let components = names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            vec![
                (i as i32 + 1).into(),
                (*name).into(),
                "".into(),
                0.into(),
                "operational".into(),
                now.into(),
                now.into(),
            ]
        })
        .collect();
    insert(
        &txn,
        backend,
        "components",
        &[
            "id",
            "name",
            "description",
            "position",
            "status",
            "created_at",
            "updated_at",
        ],
        components,
    )
    .await;
    let body = include_str!("../src/demo/seed.txt");
    let first = &body[..600];
    let later = &body[600..1800];
    let start = now - chrono::Duration::hours(incidents as i64 * 6);
    // The newest two are still open, as on a page in the middle of a bad day.
    let open_from = incidents.saturating_sub(2);
    for chunk in (0..incidents).collect::<Vec<_>>().chunks(500) {
        let (mut inc, mut upd, mut chg) = (Vec::new(), Vec::new(), Vec::new());
        for &i in chunk {
            let id = i as i32 + 1;
            let at = start + chrono::Duration::hours(i as i64 * 6);
            let open = i >= open_from;
            let component = (i % names.len()) as i32 + 1;
            let resolved_at = (!open).then(|| at + chrono::Duration::hours(2));
            inc.push(vec![
                id.into(),
                format!("Incident number {i}").into(),
                "major".into(),
                if open { "identified" } else { "resolved" }.into(),
                at.into(),
                Value::ChronoDateTimeUtc(None),
                Value::ChronoDateTimeUtc(resolved_at.map(Box::new)),
                1.into(),
                Value::String(None),
                at.into(),
                at.into(),
            ]);
            let statuses = if open {
                ["investigating", "identified", "identified"]
            } else {
                ["investigating", "identified", "resolved"]
            };
            for (k, status) in statuses.iter().enumerate() {
                let uid = id * 3 - 2 + k as i32;
                upd.push(vec![
                    uid.into(),
                    id.into(),
                    (*status).into(),
                    if k == 0 { first } else { later }.into(),
                    1.into(),
                    false.into(),
                    (at + chrono::Duration::hours(k as i64)).into(),
                    at.into(),
                ]);
                let change = match (k, *status) {
                    (0, _) => Some(("operational", "partial_outage")),
                    (_, "resolved") => Some(("partial_outage", "operational")),
                    _ => None,
                };
                if let Some((old, new)) = change {
                    chg.push(vec![uid.into(), component.into(), old.into(), new.into()]);
                }
            }
        }
        insert(
            &txn,
            backend,
            "incidents",
            &[
                "id",
                "title",
                "impact",
                "status",
                "started_at",
                "monitoring_at",
                "resolved_at",
                "author_id",
                "seed_key",
                "created_at",
                "updated_at",
            ],
            inc,
        )
        .await;
        insert(
            &txn,
            backend,
            "incident_updates",
            &[
                "id",
                "incident_id",
                "status",
                "body",
                "author_id",
                "notify",
                "display_at",
                "created_at",
            ],
            upd,
        )
        .await;
        insert(
            &txn,
            backend,
            "update_components",
            &["update_id", "component_id", "old_status", "new_status"],
            chg,
        )
        .await;
    }
    if backend == DatabaseBackend::Postgres {
        for table in ["staff", "components", "incidents", "incident_updates"] {
            txn.execute_unprepared(&format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            ))
            .await
            .unwrap();
        }
    }
    txn.commit().await.unwrap();
    db.execute_unprepared("ANALYZE").await.unwrap();
    db.close().await.ok();
}

async fn insert(
    db: &impl ConnectionTrait,
    backend: DatabaseBackend,
    table: &str,
    columns: &[&str],
    rows: Vec<Vec<Value>>,
) {
    if rows.is_empty() {
        return;
    }
    let mut n = 0;
    let groups: Vec<String> = rows
        .iter()
        .map(|r| {
            let marks: Vec<String> = r
                .iter()
                .map(|_| {
                    n += 1;
                    if backend == DatabaseBackend::Postgres {
                        format!("${n}")
                    } else {
                        "?".to_owned()
                    }
                })
                .collect();
            format!("({})", marks.join(", "))
        })
        .collect();
    let sql = format!(
        "INSERT INTO {table} ({}) VALUES {}",
        columns.join(", "),
        groups.join(", ")
    );
    db.execute(Statement::from_sql_and_values(
        backend,
        sql,
        rows.into_iter().flatten(),
    ))
    .await
    .unwrap();
}

struct Run {
    count: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

impl Run {
    fn rate(&self) -> f64 {
        self.count as f64 / self.elapsed.as_secs_f64()
    }

    fn pct(&self, p: usize) -> Duration {
        let mut v = self.latencies.clone();
        v.sort();
        v[(v.len() * p / 100).min(v.len() - 1)]
    }
}

/// Asks for every URL once, `READERS` at a time, as a browser would.
async fn fetch_all(client: &reqwest::Client, urls: Vec<String>) -> Run {
    let count = urls.len();
    let queue = Arc::new(std::sync::Mutex::new(urls));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..READERS {
        let client = client.clone();
        let queue = queue.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            loop {
                let Some(url) = queue.lock().unwrap().pop() else {
                    break;
                };
                let t = Instant::now();
                let res = client
                    .get(&url)
                    .header("Accept-Encoding", BROWSER_ACCEPT)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(res.status(), 200, "{url}");
                res.bytes().await.unwrap();
                lat.push(t.elapsed());
            }
            lat
        }));
    }
    let mut latencies = Vec::with_capacity(count);
    for t in tasks {
        latencies.extend(t.await.unwrap());
    }
    Run {
        count,
        elapsed: started.elapsed(),
        latencies,
    }
}

/// The same URL, `readers` at a time, `total` times.
async fn hammer(client: &reqwest::Client, url: &str, readers: usize, total: usize) -> Run {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..readers {
        let client = client.clone();
        let url = url.to_owned();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            for _ in 0..total / readers {
                let t = Instant::now();
                let res = client.get(&url).send().await.unwrap();
                assert_eq!(res.status(), 200);
                res.bytes().await.unwrap();
                lat.push(t.elapsed());
            }
            lat
        }));
    }
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await.unwrap());
    }
    Run {
        count: latencies.len(),
        elapsed: started.elapsed(),
        latencies,
    }
}

fn have(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

struct WrkRow {
    server: &'static str,
    path: &'static str,
    connections: usize,
    rate: f64,
    p50: String,
    p99: String,
    timeouts: u64,
    errors: u64,
    rss: String,
}

/// wrk against us and against nginx serving the same bytes, alternately.
async fn compare_with_nginx(
    dir: &std::path::Path,
    port: u16,
    server: &Child,
    pages: &[(&'static str, Vec<u8>)],
    seconds: u64,
) -> Vec<WrkRow> {
    let nginx = if have("nginx") {
        start_nginx(dir, pages)
    } else {
        None
    };
    let mut rows = Vec::new();
    for (path, _) in pages {
        for connections in [64, 256, 1000] {
            let mut targets = vec![("statuspost", port, Some(server.id()))];
            if let Some((_, p)) = &nginx {
                targets.push(("nginx", *p, None));
            }
            for (name, port, pid) in targets {
                let mut row = wrk(
                    &format!("http://127.0.0.1:{port}{path}"),
                    connections,
                    seconds,
                );
                row.server = name;
                row.path = path;
                row.rss = pid
                    .map(|p| (rss_kib(p) / 1024).to_string())
                    .unwrap_or_else(|| "-".into());
                rows.push(row);
            }
        }
    }
    if let Some((mut child, _)) = nginx {
        // TERM lets the master stop its workers.
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        child.wait().ok();
    }
    rows
}

fn start_nginx(dir: &std::path::Path, pages: &[(&'static str, Vec<u8>)]) -> Option<(Child, u16)> {
    let root = dir.join("nginx");
    for (path, bytes) in pages {
        let file = match *path {
            "/" => root.join("www/index.html"),
            p => root.join("www").join(p.trim_start_matches('/')),
        };
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, bytes).unwrap();
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let conf = format!(
        "worker_processes 2;\n\
         user root;\n\
         pid {root}/nginx.pid;\n\
         error_log {root}/error.log warn;\n\
         events {{ worker_connections 4096; }}\n\
         http {{\n\
           access_log off;\n\
           default_type text/html;\n\
           client_body_temp_path {root}/tmp;\n\
           server {{ listen 127.0.0.1:{port}; root {root}/www; location = / {{ try_files /index.html =404; }} }}\n\
         }}\n",
        root = root.display()
    );
    std::fs::write(root.join("nginx.conf"), conf).unwrap();
    let child = Command::new("nginx")
        .args(["-p", &root.display().to_string(), "-c"])
        .arg(root.join("nginx.conf"))
        .args(["-g", "daemon off;"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let deadline = Instant::now() + Duration::from_secs(5);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Some((child, port))
}

fn wrk(url: &str, connections: usize, seconds: u64) -> WrkRow {
    let out = Command::new("wrk")
        .args([
            "-t2",
            &format!("-c{connections}"),
            &format!("-d{seconds}s"),
            "--latency",
            url,
        ])
        .output()
        .expect("wrk runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let field = |prefix: &str| {
        text.lines()
            .map(str::trim)
            .find(|l| l.starts_with(prefix))
            .map(|l| l[prefix.len()..].trim().to_owned())
            .unwrap_or_default()
    };
    let socket = field("Socket errors:");
    let count = |name: &str| -> u64 {
        socket
            .split(',')
            .map(str::trim)
            .find(|p| p.starts_with(name))
            .and_then(|p| p.split_whitespace().nth(1))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    let non_2xx: u64 = field("Non-2xx or 3xx responses:").parse().unwrap_or(0);
    WrkRow {
        server: "",
        path: "",
        connections,
        rate: field("Requests/sec:").parse().unwrap_or(0.0),
        p50: field("50%"),
        p99: field("99%"),
        timeouts: count("timeout"),
        errors: count("connect") + count("read") + count("write") + non_2xx,
        rss: String::new(),
    }
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn proc_status(pid: u32, key: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

fn rss_kib(pid: u32) -> u64 {
    proc_status(pid, "VmRSS:")
}

fn hwm_kib(pid: u32) -> u64 {
    proc_status(pid, "VmHWM:")
}
