//! How fast the public page is served, and in how much memory.
//!
//! Seeds a SQLite database with 300 incidents of 3 updates each, starts the real
//! release binary on it, and measures from another process's point of view:
//! cached `/` under 64 concurrent readers, first (uncached) renders of 300
//! permalink pages, and the server's resident memory after the load.
//!
//! Run: `cargo bench --bench pages`
use std::io::BufRead;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use statuspost::domain::{
    ComponentName, ComponentStatus, DisplayName, EmailAddress, Impact, IncidentStatus,
    IncidentTitle, Password, UpdateBody,
};
use statuspost::store::{
    self,
    incidents::{NewIncident, NewUpdate},
};

const INCIDENTS: i32 = 300;
const READERS: usize = 64;
const REQUESTS: usize = 20_000;

#[tokio::main]
async fn main() {
    let dir = std::env::temp_dir().join(format!("statuspost-bench-pages-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db_url = format!("sqlite://{}?mode=rwc", dir.join("bench.db").display());
    seed(&db_url).await;

    let mut child = Command::new(env!("CARGO_BIN_EXE_statuspost"))
        .current_dir(&dir)
        .env("DATABASE_URL", &db_url)
        .env("STATUSPOST_RUN_WORKER", "false")
        .env("RUST_LOG", "info,actix_web=warn")
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
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(READERS)
        .build()
        .unwrap();
    let rss_idle = rss_kib(child.id());

    // First renders: every permalink page once, each a cache miss.
    let mut cold = Vec::new();
    for id in 1..=INCIDENTS {
        let t = Instant::now();
        let res = client
            .get(format!("{base}/incidents/{id}"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        res.bytes().await.unwrap();
        cold.push(t.elapsed());
    }

    // The front page, cached, under concurrent readers.
    let front = client
        .get(format!("{base}/"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let started = Instant::now();
    let client = Arc::new(client);
    let mut tasks = Vec::new();
    for _ in 0..READERS {
        let client = client.clone();
        let url = format!("{base}/");
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(REQUESTS / READERS);
            for _ in 0..REQUESTS / READERS {
                let t = Instant::now();
                let res = client.get(&url).send().await.unwrap();
                assert_eq!(res.status(), 200);
                res.bytes().await.unwrap();
                lat.push(t.elapsed());
            }
            lat
        }));
    }
    let mut hot = Vec::new();
    for t in tasks {
        hot.extend(t.await.unwrap());
    }
    let elapsed = started.elapsed();
    let rss_after = rss_kib(child.id());
    let hwm = hwm_kib(child.id());
    child.kill().ok();
    child.wait().ok();
    let _ = std::fs::remove_dir_all(&dir);

    println!(
        "statuspost page benchmark ({INCIDENTS} incidents x 3 updates, SQLite, release build)"
    );
    println!("| measure | value |");
    println!("|---|---|");
    println!("| front page size | {} KiB |", front.len() / 1024);
    println!(
        "| cached `/`, {READERS} concurrent readers | {:.0} requests/s |",
        hot.len() as f64 / elapsed.as_secs_f64()
    );
    println!(
        "| cached `/` latency p50 / p99 | {} / {} |",
        ms(pct(&mut hot, 50)),
        ms(pct(&mut hot, 99))
    );
    println!(
        "| first render of `/incidents/{{id}}` p50 / p99 | {} / {} |",
        ms(pct(&mut cold, 50)),
        ms(pct(&mut cold, 99))
    );
    println!(
        "| server memory (RSS) idle / after load / peak | {} / {} / {} MiB |",
        rss_idle / 1024,
        rss_after / 1024,
        hwm / 1024
    );
}

async fn seed(url: &str) {
    let db = store::connect(url).await.unwrap();
    {
        use migration::MigratorTrait;
        migration::Migrator::up(&db, None).await.unwrap();
    }
    let author = store::staff::create(
        &db,
        store::staff::NewStaff {
            email: EmailAddress::parse("bench@example.com").unwrap(),
            name: DisplayName::parse("Shannon").unwrap(),
            password: Password::parse("bench password 1").unwrap(),
            is_admin: true,
        },
    )
    .await
    .unwrap()
    .id;
    let mut components = Vec::new();
    for name in ["Website", "API", "Downloads", "Payments", "Email"] {
        let c = store::components::create(
            &db,
            store::components::ComponentInput {
                name: ComponentName::parse(name).unwrap(),
                description: String::new(),
                group: None,
                position: 0,
                status: ComponentStatus::Operational,
            },
        )
        .await
        .unwrap();
        components.push(c.id);
    }
    let body = include_str!("../src/demo/seed.txt");
    let start = chrono::Utc::now() - chrono::Duration::days(INCIDENTS as i64 * 3);
    for i in 0..INCIDENTS {
        let at = start + chrono::Duration::days(i as i64 * 3);
        let p = store::incidents::create(
            &db,
            NewIncident {
                title: IncidentTitle::parse(&format!("Incident number {i}")).unwrap(),
                impact: Impact::Major,
                seed_key: None,
                update: NewUpdate {
                    status: IncidentStatus::Investigating,
                    body: UpdateBody::parse(&body[..600]).unwrap(),
                    components: vec![(
                        components[i as usize % components.len()],
                        ComponentStatus::PartialOutage,
                    )],
                    at,
                    author_id: author,
                    notify: false,
                },
            },
        )
        .await
        .unwrap();
        for (k, status) in [IncidentStatus::Identified, IncidentStatus::Resolved]
            .into_iter()
            .enumerate()
        {
            store::incidents::post_update(
                &db,
                p.incident_id,
                NewUpdate {
                    status,
                    body: UpdateBody::parse(&body[600..1800]).unwrap(),
                    components: if status == IncidentStatus::Resolved {
                        vec![(
                            components[i as usize % components.len()],
                            ComponentStatus::Operational,
                        )]
                    } else {
                        vec![]
                    },
                    at: at + chrono::Duration::hours(k as i64 + 1),
                    author_id: author,
                    notify: false,
                },
            )
            .await
            .unwrap();
        }
    }
    db.close().await.ok();
}

fn pct(v: &mut [Duration], p: usize) -> Duration {
    v.sort();
    v[(v.len() * p / 100).min(v.len() - 1)]
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
