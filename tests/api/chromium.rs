//! Headless Chromium through a chromedriver of the test's own, for the tests
//! that read pages as a browser does: the staff flow (`tests/browser.rs`) and
//! the accessibility audit of every page (`html_quality`), with axe-core.
//!
//! Needs Debian's `chromium` and `chromium-driver`, and the npm package
//! `axe-core` for the audit (`.ci/run` installs them). Without them these
//! tests fail in CI and are skipped, loudly, elsewhere.
#![allow(dead_code)]

use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder};

use crate::helpers::{runs, target_dir, tool_available};

pub const CHROMIUM: &str = "/usr/bin/chromium";

/// Whether Chromium and chromedriver are here (a failure in CI when not).
pub fn chromium_available() -> bool {
    let found = Path::new(CHROMIUM).exists() && runs("chromedriver", "--version");
    tool_available(
        found,
        "Chromium and chromedriver",
        "apt-get install -y chromium chromium-driver",
    )
}

/// A chromedriver of this test's own, stopped when dropped.
pub struct ChromeDriver {
    child: Child,
    port: u16,
}

impl ChromeDriver {
    pub fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        // A process group of its own, so Chromium goes with it even when a
        // failed assertion leaves the session open.
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let driver = Self { child, port };
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "chromedriver did not listen on port {port} within 30 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        driver
    }

    /// A headless Chromium session with its own profile folder.
    pub async fn browser(&self, profile: &Path) -> Client {
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "binary": CHROMIUM,
                "args": [
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-background-networking",
                    "--disable-dev-shm-usage",
                    "--no-first-run",
                    "--window-size=1200,1500",
                    format!("--user-data-dir={}", profile.display()),
                ],
            }),
        );
        ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{}", self.port))
            .await
            .expect("a Chromium session")
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A folder under target/screenshots, emptied first so none is stale.
pub fn screenshot_dir(name: &str) -> PathBuf {
    let dir = target_dir().join("screenshots").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("screenshot folder");
    dir
}

/// axe-core's script, from AXE_JS, else where `.ci/run` installs it.
pub fn axe_source() -> Option<String> {
    let path = std::env::var_os("AXE_JS")
        .map(PathBuf::from)
        .unwrap_or_else(|| target_dir().join("ci-tools/node_modules/axe-core/axe.min.js"));
    let found = path.is_file();
    tool_available(
        found,
        &format!("axe-core ({})", path.display()),
        "npm install --prefix target/ci-tools axe-core, or set AXE_JS",
    )
    .then(|| std::fs::read_to_string(&path).expect("axe.min.js reads"))
}

/// The serious and critical violations axe-core finds on the page the
/// browser shows, one line each: rule, what it says, where.
pub async fn axe_violations(c: &Client, axe: &str) -> Vec<String> {
    c.execute(&format!("{axe}\nreturn true;"), vec![])
        .await
        .expect("axe-core loads");
    let found = c
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, { resultTypes: ['violations'] })
               .then(r => done(r.violations
                 .filter(v => v.impact === 'serious' || v.impact === 'critical')
                 .map(v => v.impact + ' ' + v.id + ': ' + v.help + ' at '
                   + v.nodes.slice(0, 5).map(n => n.target.join(' ')).join(', '))))
               .catch(e => done(['axe-core failed: ' + e]));",
            vec![],
        )
        .await
        .expect("axe-core runs");
    found
        .as_array()
        .expect("a list")
        .iter()
        .map(|v| v.as_str().unwrap_or_default().to_owned())
        .collect()
}
