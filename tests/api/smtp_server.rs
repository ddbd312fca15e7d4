//! A small real SMTP server for tests: it speaks enough SMTP over TCP for lettre
//! (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT), keeps every message it
//! accepts, and can be stopped and started again on the same port.
#![allow(dead_code)] // a harness: not every helper is used by every test
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// How long `wait_for` waits before it gives up: generous, it is not a timing check.
pub const DEADLINE: Duration = Duration::from_secs(120);

/// One accepted message: its envelope and its raw text as sent after DATA.
#[derive(Debug, Clone)]
pub struct Received {
    pub from: String,
    pub to: Vec<String>,
    pub data: String,
}

struct Inner {
    port: u16,
    messages: Mutex<Vec<Received>>,
    count: tokio::sync::watch::Sender<usize>,
    /// The accept loop and every open connection, aborted by `stop`.
    tasks: Mutex<Vec<JoinHandle<()>>>,
    /// When set, RCPT answers with this reply (e.g. "550 no such user").
    reject_rcpt: Mutex<Option<String>>,
}

#[derive(Clone)]
pub struct SmtpServer {
    inner: Arc<Inner>,
}

impl SmtpServer {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind smtp");
        let port = listener.local_addr().unwrap().port();
        let (count, _) = tokio::sync::watch::channel(0);
        let server = Self {
            inner: Arc::new(Inner {
                port,
                messages: Mutex::new(Vec::new()),
                count,
                tasks: Mutex::new(Vec::new()),
                reject_rcpt: Mutex::new(None),
            }),
        };
        server.serve(listener);
        server
    }

    pub fn port(&self) -> u16 {
        self.inner.port
    }

    /// The `SMTP_URL` setting that reaches this server.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.inner.port)
    }

    /// Closes the port and drops every open connection.
    pub fn stop(&self) {
        for t in self.inner.tasks.lock().unwrap().drain(..) {
            t.abort();
        }
    }

    /// Listens again on the same port.
    pub async fn restart(&self) {
        self.stop();
        let addr = format!("127.0.0.1:{}", self.inner.port);
        // The old socket may take a moment to be released by the aborted task.
        let mut tries = 0;
        let listener = loop {
            match TcpListener::bind(&addr).await {
                Ok(l) => break l,
                Err(e) if tries < 200 => {
                    tries += 1;
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(25)).await;
                }
                Err(e) => panic!("cannot listen on {addr} again: {e}"),
            }
        };
        self.serve(listener);
    }

    /// Makes RCPT answer `reply` (e.g. "550 5.1.1 no such user"), or accept again with None.
    pub fn reject_recipients(&self, reply: Option<&str>) {
        *self.inner.reject_rcpt.lock().unwrap() = reply.map(str::to_owned);
    }

    pub fn messages(&self) -> Vec<Received> {
        self.inner.messages.lock().unwrap().clone()
    }

    /// How many have arrived, without copying them (the fan-out benchmark polls it).
    #[allow(dead_code)]
    pub fn count(&self) -> usize {
        self.inner.messages.lock().unwrap().len()
    }

    /// Waits until at least `n` messages have arrived, and returns them all.
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        let mut rx = self.inner.count.subscribe();
        let got = tokio::time::timeout(DEADLINE, rx.wait_for(|c| *c >= n)).await;
        if got.is_err() {
            panic!(
                "expected {n} messages, got {} within {DEADLINE:?}",
                self.messages().len()
            );
        }
        self.messages()
    }

    fn serve(&self, listener: TcpListener) {
        let inner = self.inner.clone();
        let accept = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let inner2 = inner.clone();
                let conn = tokio::spawn(async move {
                    let _ = session(stream, &inner2).await;
                });
                inner.tasks.lock().unwrap().push(conn);
            }
        });
        self.inner.tasks.lock().unwrap().push(accept);
    }
}

async fn session(stream: TcpStream, inner: &Inner) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 localhost test SMTP\r\n").await?;
    let mut from = String::new();
    let mut to: Vec<String> = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let cmd = line.trim_end().to_owned();
        let upper = cmd.to_ascii_uppercase();
        let reply: String = if upper.starts_with("EHLO") {
            "250-localhost\r\n250-8BITMIME\r\n250 SMTPUTF8".into()
        } else if upper.starts_with("HELO") || upper.starts_with("NOOP") {
            "250 OK".into()
        } else if upper.starts_with("MAIL FROM:") {
            from = address(&cmd["MAIL FROM:".len()..]);
            to.clear();
            "250 OK".into()
        } else if upper.starts_with("RCPT TO:") {
            match inner.reject_rcpt.lock().unwrap().clone() {
                Some(r) => r,
                None => {
                    to.push(address(&cmd["RCPT TO:".len()..]));
                    "250 OK".into()
                }
            }
        } else if upper == "RSET" {
            from.clear();
            to.clear();
            "250 OK".into()
        } else if upper == "DATA" {
            if to.is_empty() {
                "503 need RCPT first".into()
            } else {
                write.write_all(b"354 end with .\r\n").await?;
                let mut data = String::new();
                loop {
                    line.clear();
                    if lines.read_line(&mut line).await? == 0 {
                        return Ok(());
                    }
                    if line == ".\r\n" || line == ".\n" {
                        break;
                    }
                    // Dot-stuffing: a leading ".." stands for ".".
                    data.push_str(line.strip_prefix('.').unwrap_or(&line));
                }
                inner.messages.lock().unwrap().push(Received {
                    from: std::mem::take(&mut from),
                    to: std::mem::take(&mut to),
                    data,
                });
                inner.count.send_modify(|c| *c += 1);
                "250 OK queued".into()
            }
        } else if upper == "QUIT" {
            write.write_all(b"221 bye\r\n").await?;
            return Ok(());
        } else {
            "502 command not implemented".into()
        };
        write.write_all(format!("{reply}\r\n").as_bytes()).await?;
    }
}

/// "<a@b> SIZE=12" -> "a@b"
fn address(arg: &str) -> String {
    let arg = arg.trim();
    match (arg.find('<'), arg.find('>')) {
        (Some(a), Some(b)) if a < b => arg[a + 1..b].to_owned(),
        _ => arg.split_whitespace().next().unwrap_or("").to_owned(),
    }
}

// ---- reading a received message ----------------------------------------------

impl Received {
    /// The message's header block, lines unfolded.
    fn header_lines(&self) -> Vec<String> {
        let head = self
            .data
            .split("\r\n\r\n")
            .next()
            .unwrap_or_default()
            .to_owned();
        unfolded(&head)
    }

    /// Every raw header line (unfolded), e.g. to check that no header was injected.
    pub fn headers(&self) -> Vec<(String, String)> {
        self.header_lines()
            .into_iter()
            .filter_map(|l| {
                l.split_once(':')
                    .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
            })
            .collect()
    }

    /// A header's decoded value (RFC 2047 encoded words decoded), by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers()
            .into_iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| decode_words(&v))
    }

    pub fn subject(&self) -> String {
        self.header("Subject").unwrap_or_default()
    }

    /// The decoded body of the first part with this content type ("text/plain", "text/html").
    pub fn part(&self, content_type: &str) -> Option<String> {
        find_part(&self.data, content_type)
    }

    pub fn text(&self) -> String {
        self.part("text/plain").expect("a text/plain part")
    }

    pub fn html(&self) -> String {
        self.part("text/html").expect("a text/html part")
    }
}

fn unfolded(head: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for l in head.split("\r\n") {
        if (l.starts_with(' ') || l.starts_with('\t')) && !out.is_empty() {
            let last = out.last_mut().unwrap();
            last.push(' ');
            last.push_str(l.trim_start());
        } else {
            out.push(l.to_owned());
        }
    }
    out
}

fn header_of(lines: &[String], name: &str) -> Option<String> {
    lines.iter().find_map(|l| {
        l.split_once(':')
            .filter(|(k, _)| k.trim().eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim().to_owned())
    })
}

fn find_part(entity: &str, want: &str) -> Option<String> {
    let (head, body) = entity.split_once("\r\n\r\n")?;
    let lines = unfolded(head);
    let ctype = header_of(&lines, "Content-Type").unwrap_or_else(|| "text/plain".into());
    let lower = ctype.to_ascii_lowercase();
    if lower.starts_with("multipart/") {
        let boundary = ctype
            .split(';')
            .find_map(|p| p.trim().strip_prefix("boundary="))?
            .trim_matches('"')
            .to_owned();
        let delim = format!("--{boundary}");
        return body
            .split(delim.as_str())
            .skip(1)
            .take_while(|p| !p.starts_with("--"))
            .find_map(|p| find_part(p.trim_start_matches("\r\n"), want));
    }
    if !lower.starts_with(want) {
        return None;
    }
    // The line break before a boundary belongs to the boundary.
    let body = body.strip_suffix("\r\n").unwrap_or(body);
    let encoding = header_of(&lines, "Content-Transfer-Encoding")
        .unwrap_or_default()
        .to_ascii_lowercase();
    let bytes = match encoding.as_str() {
        "base64" => {
            use base64::Engine;
            let compact: String = body.split_whitespace().collect();
            base64::engine::general_purpose::STANDARD
                .decode(compact)
                .expect("base64 body")
        }
        "quoted-printable" => {
            quoted_printable::decode(body.as_bytes(), quoted_printable::ParseMode::Robust)
                .expect("quoted-printable body")
        }
        _ => body.as_bytes().to_vec(),
    };
    Some(String::from_utf8(bytes).expect("utf-8 body"))
}

/// Decodes RFC 2047 encoded words ("=?utf-8?b?...?=") in a header value.
fn decode_words(value: &str) -> String {
    let mut out = String::new();
    let mut rest = value;
    let mut last_was_word = false;
    while let Some(start) = rest.find("=?") {
        let before = &rest[..start];
        // Whitespace between two encoded words is not part of the text.
        if !(last_was_word && before.trim().is_empty()) {
            out.push_str(before);
        }
        let after = &rest[start + 2..];
        let parts: Vec<&str> = after.splitn(3, '?').collect();
        let Some(end) = parts.get(2).and_then(|p| p.find("?=")) else {
            out.push_str(&rest[start..]);
            return out;
        };
        let (enc, text) = (parts[1], &parts[2][..end]);
        let bytes = if enc.eq_ignore_ascii_case("b") {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD
                .decode(text)
                .unwrap_or_default()
        } else {
            let t = text.replace('_', " ");
            quoted_printable::decode(t.as_bytes(), quoted_printable::ParseMode::Robust)
                .unwrap_or_default()
        };
        out.push_str(&String::from_utf8_lossy(&bytes));
        let consumed = start + 2 + parts[0].len() + 1 + parts[1].len() + 1 + end + 2;
        rest = &rest[consumed..];
        last_was_word = true;
    }
    out.push_str(rest);
    out
}

#[tokio::test]
async fn lettre_reaches_it_and_it_reads_what_lettre_wrote() {
    use lettre::message::{header::ContentType, MultiPart, SinglePart};
    use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
    let server = SmtpServer::start().await;
    let smtp = AsyncSmtpTransport::<Tokio1Executor>::from_url(&server.url())
        .unwrap()
        .build();
    let msg = Message::builder()
        .from("a@example.com".parse().unwrap())
        .to("b@example.com".parse().unwrap())
        .subject("Grüße: naïve ☃")
        .multipart(
            MultiPart::alternative()
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_PLAIN)
                        .body(".starts with a dot\nnon-ascii ✓".to_owned()),
                )
                .singlepart(SinglePart::html("<p>hi</p>".to_owned())),
        )
        .unwrap();
    smtp.send(msg.clone()).await.unwrap();
    let got = server.wait_for(1).await;
    assert_eq!(got[0].to, vec!["b@example.com"]);
    assert_eq!(got[0].subject(), "Grüße: naïve ☃");
    assert!(got[0].text().contains(".starts with a dot"));
    assert!(got[0].text().contains("non-ascii ✓"));
    assert_eq!(got[0].html(), "<p>hi</p>");

    // Stopped, the port refuses; started again, the same URL works.
    server.stop();
    let fresh = AsyncSmtpTransport::<Tokio1Executor>::from_url(&server.url())
        .unwrap()
        .build();
    assert!(fresh.send(msg.clone()).await.is_err());
    server.restart().await;
    fresh.send(msg).await.unwrap();
    assert_eq!(server.wait_for(2).await.len(), 2);
}
