//! A real HTTP webhook receiver for tests: a small HTTP/1.1 server on
//! 127.0.0.1:0 that records every request and checks its Standard Webhooks
//! signature with the `standardwebhooks` crate, as a subscriber would.
#![allow(dead_code)] // a harness: not every helper is used by every test
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// How the receiver answers.
#[derive(Debug, Clone)]
pub enum Behaviour {
    /// This status, with these extra headers, once the signature checks out
    /// (401 when it does not).
    Status(u16, Vec<(String, String)>),
    /// This status with this body, once the signature checks out.
    StatusBody(u16, String),
    /// Reads the request, then never answers and never closes.
    Hang,
    /// Reads the request, sends the start of a status line, then stalls.
    Stall,
    /// Reads the request and answers 204 once [`WebhookReceiver::open_gate`]
    /// is called (at once if it was): a sender's requests stay in flight for
    /// as long as the test needs them to.
    Held,
}

/// One request as the receiver saw it.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub path: String,
    pub headers: http::HeaderMap,
    pub body: Vec<u8>,
    /// What `standardwebhooks::Webhook::verify` said.
    pub verified: Result<(), String>,
}

impl Received {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("the body is JSON")
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .unwrap_or_else(|| panic!("no {name} header"))
            .to_str()
            .unwrap()
    }
}

pub struct WebhookReceiver {
    pub port: u16,
    received: Arc<Mutex<Vec<Received>>>,
    /// Connections accepted, whether or not a whole request came.
    connections: Arc<Mutex<usize>>,
    behaviour: Arc<Mutex<Behaviour>>,
    gate: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl WebhookReceiver {
    /// A receiver answering 204 to well-signed requests.
    pub async fn start(secret: &str) -> Self {
        Self::start_with(secret, Behaviour::Status(204, vec![])).await
    }

    pub async fn start_with(secret: &str, behaviour: Behaviour) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().unwrap().port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let connections = Arc::new(Mutex::new(0));
        let behaviour = Arc::new(Mutex::new(behaviour));
        let verifier = Arc::new(standardwebhooks::Webhook::new(secret).expect("whsec_ secret"));
        let (gate, opened) = tokio::sync::watch::channel(false);
        let task = {
            let (received, connections, behaviour) =
                (received.clone(), connections.clone(), behaviour.clone());
            tokio::spawn(async move {
                while let Ok((stream, _)) = listener.accept().await {
                    *connections.lock().unwrap() += 1;
                    tokio::spawn(serve(
                        stream,
                        verifier.clone(),
                        received.clone(),
                        behaviour.clone(),
                        opened.clone(),
                    ));
                }
            })
        };
        Self {
            port,
            received,
            connections,
            behaviour,
            gate,
            task,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{}", self.port, path)
    }

    pub fn set_behaviour(&self, b: Behaviour) {
        *self.behaviour.lock().unwrap() = b;
    }

    /// Lets every [`Behaviour::Held`] request have its answer, now and later.
    pub fn open_gate(&self) {
        self.gate.send_replace(true);
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// How many have arrived, without copying them (the fan-out benchmark polls it).
    #[allow(dead_code)]
    pub fn count(&self) -> usize {
        self.received.lock().unwrap().len()
    }

    pub fn connections(&self) -> usize {
        *self.connections.lock().unwrap()
    }
}

impl Drop for WebhookReceiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(
    stream: TcpStream,
    verifier: Arc<standardwebhooks::Webhook>,
    received: Arc<Mutex<Vec<Received>>>,
    behaviour: Arc<Mutex<Behaviour>>,
    mut opened: tokio::sync::watch::Receiver<bool>,
) {
    let mut stream = BufReader::new(stream);
    // Keep-alive: one request after another on the same connection.
    while let Some(req) = read_request(&mut stream, &verifier).await {
        let verified = req.verified.is_ok();
        received.lock().unwrap().push(req);
        let b = behaviour.lock().unwrap().clone();
        let status = match b {
            Behaviour::Hang => {
                std::future::pending::<()>().await;
                return;
            }
            Behaviour::Stall => {
                let _ = stream.get_mut().write_all(b"HTTP/1.1 2").await;
                std::future::pending::<()>().await;
                return;
            }
            Behaviour::Held => {
                if opened.wait_for(|open| *open).await.is_err() {
                    return;
                }
                (204, vec![], String::new())
            }
            Behaviour::Status(status, headers) => (status, headers, String::new()),
            Behaviour::StatusBody(status, body) => (status, vec![], body),
        };
        let (code, headers, body) = if verified {
            status
        } else {
            (401, vec![], String::new())
        };
        let mut answer = format!("HTTP/1.1 {code} Test\r\ncontent-length: {}\r\n", body.len());
        for (k, v) in headers {
            answer.push_str(&format!("{k}: {v}\r\n"));
        }
        answer.push_str("\r\n");
        answer.push_str(&body);
        if stream.get_mut().write_all(answer.as_bytes()).await.is_err() {
            return;
        }
    }
}

async fn read_request(
    stream: &mut BufReader<TcpStream>,
    verifier: &standardwebhooks::Webhook,
) -> Option<Received> {
    let mut line = String::new();
    if stream.read_line(&mut line).await.ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let path = parts.next()?.to_owned();
    let mut headers = http::HeaderMap::new();
    loop {
        let mut h = String::new();
        if stream.read_line(&mut h).await.ok()? == 0 {
            return None;
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (k, v) = h.split_once(':')?;
        headers.append(
            http::HeaderName::from_bytes(k.trim().as_bytes()).ok()?,
            http::HeaderValue::from_str(v.trim()).ok()?,
        );
    }
    let len: usize = headers
        .get("content-length")
        .and_then(|v| v.to_str().ok()?.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    stream.read_exact(&mut body).await.ok()?;
    let verified = verifier.verify(&body, &headers).map_err(|e| e.to_string());
    Some(Received {
        method,
        path,
        headers,
        body,
        verified,
    })
}
