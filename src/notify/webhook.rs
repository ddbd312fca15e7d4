//! Sends one signed webhook and says what came of it.
//!
//! Requests are signed per the Standard Webhooks specification
//! (<https://www.standardwebhooks.com/>): `webhook-id`, `webhook-timestamp` and
//! `webhook-signature` (`v1,` + base64 HMAC-SHA256 of `id.timestamp.body`), so
//! receivers can verify them with any of the `standardwebhooks` libraries.
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Utc};
use reqwest::header::{HeaderMap, HeaderValue, CONTENT_TYPE, RETRY_AFTER};
use reqwest::StatusCode;

use super::ssrf::{self, Blocked, VettingResolver};
use crate::domain::WebhookUrl;

mod payload;
pub use payload::{incident_as_of, payload, Notice, Subject};

/// How long a receiver has to answer, from connecting to the status line.
pub const TIMEOUT: Duration = Duration::from_secs(15);

/// The longest wait a receiver's `Retry-After` may ask for.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

/// What came of one delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookOutcome {
    /// The receiver answered 2xx.
    Delivered,
    /// Worth trying again later: no answer, a timeout, a redirect or a non-2xx
    /// status. `retry_after` is the receiver's `Retry-After`, if it sent one.
    Retry {
        error: String,
        retry_after: Option<Duration>,
    },
    /// 410 Gone: the receiver asks never to be called again.
    Gone,
    /// Never sent, and sending again would not help: a forbidden address, a
    /// malformed URL or secret.
    Refused(String),
}

/// Sends webhooks; built once at start and shared, as it holds the connection pool.
#[derive(Clone)]
pub struct WebhookSender {
    client: reqwest::Client,
    allow_private: bool,
    timeout: Duration,
}

impl WebhookSender {
    /// A sender with the 15 s timeout. `allow_private` lets deliveries reach
    /// loopback and private addresses (setting `webhook_allow_private`).
    pub fn new(allow_private: bool) -> Self {
        Self::with_timeout(allow_private, TIMEOUT)
    }

    /// As [`WebhookSender::new`] with another timeout: for tests, which cannot
    /// wait 15 s for each hanging receiver.
    pub fn with_timeout(allow_private: bool, timeout: Duration) -> Self {
        let client = reqwest::Client::builder()
            .user_agent(concat!("statuspost/", env!("CARGO_PKG_VERSION")))
            // A 3xx is a failure: following it would let a public receiver
            // send us on to an address the guard never saw.
            .redirect(reqwest::redirect::Policy::none())
            // A proxy would resolve the name itself, out of the guard's sight.
            .no_proxy()
            .dns_resolver(Arc::new(VettingResolver { allow_private }))
            .timeout(timeout)
            .connect_timeout(timeout)
            .pool_idle_timeout(Duration::from_secs(30))
            .build()
            .expect("the webhook HTTP client builds");
        Self {
            client,
            allow_private,
            timeout,
        }
    }

    /// POSTs `body` (JSON) to `url`, signed with `secret` ("whsec_..."). `msg_id`
    /// must be the same on every retry of one message, so receivers can drop
    /// repeats.
    pub async fn send(&self, url: &str, secret: &str, msg_id: &str, body: &[u8]) -> WebhookOutcome {
        let url = match WebhookUrl::parse(url) {
            Ok(u) => u,
            Err(e) => return WebhookOutcome::Refused(format!("bad webhook URL: {e}")),
        };
        // An IP-literal URL never reaches the resolver: check it here.
        if let Err(blocked) = ssrf::check_literal(url.as_url(), self.allow_private) {
            return WebhookOutcome::Refused(blocked.to_string());
        }
        let headers = match sign(secret, msg_id, Utc::now().timestamp(), body) {
            Ok(h) => h,
            Err(e) => return WebhookOutcome::Refused(e),
        };
        let result = self
            .client
            .post(url.as_url().clone())
            .headers(headers)
            .body(body.to_vec())
            .send()
            .await;
        match result {
            Ok(res) => match outcome_of(res.status(), res.headers(), Utc::now()) {
                WebhookOutcome::Retry { error, retry_after } => {
                    let error = match snippet(res).await {
                        Some(text) => format!("{error}: {text}"),
                        None => error,
                    };
                    WebhookOutcome::Retry { error, retry_after }
                }
                other => other,
            },
            Err(e) => self.failure(e),
        }
    }

    fn failure(&self, e: reqwest::Error) -> WebhookOutcome {
        if let Some(blocked) = find_source::<Blocked>(&e) {
            return WebhookOutcome::Refused(blocked.to_string());
        }
        let error = if e.is_timeout() {
            format!("no answer within {} s", self.timeout.as_secs_f32())
        } else {
            error_chain(&e.without_url())
        };
        WebhookOutcome::Retry {
            error,
            retry_after: None,
        }
    }
}

/// The Standard Webhooks headers (and Content-Type) for one message.
pub fn sign(secret: &str, msg_id: &str, timestamp: i64, body: &[u8]) -> Result<HeaderMap, String> {
    let signer = standardwebhooks::Webhook::new(secret)
        .map_err(|_| "the signing secret is not a valid whsec_ secret".to_owned())?;
    let signature = signer
        .sign(msg_id, timestamp, body)
        .map_err(|e| format!("cannot sign the payload: {e}"))?;
    // HeaderValue refuses CR and LF, so an id cannot inject headers.
    let id = HeaderValue::from_str(msg_id).map_err(|_| format!("bad message id {msg_id:?}"))?;
    let mut headers = HeaderMap::new();
    headers.insert(standardwebhooks::HEADER_WEBHOOK_ID, id);
    headers.insert(
        standardwebhooks::HEADER_WEBHOOK_TIMESTAMP,
        HeaderValue::from(timestamp),
    );
    headers.insert(
        standardwebhooks::HEADER_WEBHOOK_SIGNATURE,
        HeaderValue::from_str(&signature).map_err(|e| e.to_string())?,
    );
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Ok(headers)
}

/// The start of a failed answer's body, on one line, for staff reading the
/// delivery's last error: receivers often say there what went wrong.
async fn snippet(mut res: reqwest::Response) -> Option<String> {
    const MAX_BYTES: usize = 1024;
    const MAX_CHARS: usize = 200;
    let mut buf = Vec::new();
    // Within the client's timeout; a body that never ends is cut short by it.
    while buf.len() < MAX_BYTES {
        match res.chunk().await {
            Ok(Some(chunk)) => buf.extend_from_slice(&chunk),
            _ => break,
        }
    }
    buf.truncate(MAX_BYTES);
    let text = String::from_utf8_lossy(&buf);
    let mut one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    one_line.retain(|c| !c.is_control());
    if one_line.is_empty() {
        return None;
    }
    if one_line.chars().count() > MAX_CHARS {
        one_line = one_line.chars().take(MAX_CHARS).collect::<String>() + "...";
    }
    Some(one_line)
}

/// Judges a receiver's answer.
fn outcome_of(status: StatusCode, headers: &HeaderMap, now: DateTime<Utc>) -> WebhookOutcome {
    if status.is_success() {
        return WebhookOutcome::Delivered;
    }
    if status == StatusCode::GONE {
        return WebhookOutcome::Gone;
    }
    let error = if status.is_redirection() {
        format!("HTTP {status}: redirects are not followed")
    } else {
        format!("HTTP {status}")
    };
    let retry_after = headers
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| retry_after(v, now));
    WebhookOutcome::Retry { error, retry_after }
}

/// A `Retry-After` value (delay in seconds, or an HTTP date) as a wait from
/// `now`, at most [`MAX_RETRY_AFTER`]. A date in the past means "now".
pub fn retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    let wait = if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // Too many digits to fit a u64 is still "a very long time".
        Duration::from_secs(value.parse().unwrap_or(u64::MAX))
    } else {
        let at = http_date(value)?;
        (at - now).to_std().unwrap_or(Duration::ZERO)
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

/// An HTTP date in any of the three forms RFC 9110 makes recipients accept.
fn http_date(s: &str) -> Option<DateTime<Utc>> {
    const FORMATS: [&str; 3] = [
        "%a, %d %b %Y %H:%M:%S GMT", // IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
        "%A, %d-%b-%y %H:%M:%S GMT", // RFC 850: Sunday, 06-Nov-94 08:49:37 GMT
        "%a %b %e %H:%M:%S %Y",      // asctime: Sun Nov  6 08:49:37 1994
    ];
    FORMATS
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
        .map(|t| t.and_utc())
}

fn find_source<'a, T: std::error::Error + 'static>(
    e: &'a (dyn std::error::Error + 'static),
) -> Option<&'a T> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(found) = err.downcast_ref::<T>() {
            return Some(found);
        }
        cur = err.source();
    }
    None
}

/// "error sending request: client error (Connect): tcp connect error: Connection refused"
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        let text = err.to_string();
        // Wrappers often repeat their source's text; keep each piece once.
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        cur = err.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(1994, 11, 6, 8, 49, 0).unwrap()
    }

    #[test]
    fn retry_after_takes_seconds_and_dates() {
        assert_eq!(retry_after("120", now()), Some(Duration::from_secs(120)));
        assert_eq!(retry_after(" 0 ", now()), Some(Duration::ZERO));
        for date in [
            "Sun, 06 Nov 1994 08:49:37 GMT",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
        ] {
            assert_eq!(
                retry_after(date, now()),
                Some(Duration::from_secs(37)),
                "{date}"
            );
        }
        // A date already past: try again now.
        assert_eq!(
            retry_after("Sat, 05 Nov 1994 08:49:37 GMT", now()),
            Some(Duration::ZERO)
        );
        assert_eq!(
            retry_after("99999999999999999999999", now()),
            Some(MAX_RETRY_AFTER)
        );
        for junk in ["", "soon", "-5", "1.5", "Sun, 06 Nov 1994"] {
            assert_eq!(retry_after(junk, now()), None, "{junk:?}");
        }
    }

    #[test]
    fn only_2xx_is_delivered() {
        let h = HeaderMap::new();
        assert_eq!(
            outcome_of(StatusCode::OK, &h, now()),
            WebhookOutcome::Delivered
        );
        assert_eq!(
            outcome_of(StatusCode::NO_CONTENT, &h, now()),
            WebhookOutcome::Delivered
        );
        assert_eq!(
            outcome_of(StatusCode::GONE, &h, now()),
            WebhookOutcome::Gone
        );
        for s in [301, 302, 304, 400, 404, 429, 500, 503] {
            let s = StatusCode::from_u16(s).unwrap();
            assert!(
                matches!(outcome_of(s, &h, now()), WebhookOutcome::Retry { .. }),
                "{s}"
            );
        }
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_static("30"));
        assert_eq!(
            outcome_of(StatusCode::SERVICE_UNAVAILABLE, &h, now()),
            WebhookOutcome::Retry {
                error: "HTTP 503 Service Unavailable".into(),
                retry_after: Some(Duration::from_secs(30)),
            }
        );
    }

    // The published test vector of the Standard Webhooks specification
    // (standard-webhooks repository, spec/tests).
    const SPEC_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const SPEC_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const SPEC_TIMESTAMP: i64 = 1614265330;
    const SPEC_BODY: &[u8] = br#"{"test": 2432232314}"#;
    const SPEC_SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    #[test]
    fn signs_the_specification_test_vector() {
        let h = sign(SPEC_SECRET, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY).unwrap();
        assert_eq!(h["webhook-id"], SPEC_ID);
        assert_eq!(h["webhook-timestamp"], "1614265330");
        assert_eq!(h["webhook-signature"], SPEC_SIGNATURE);
        assert_eq!(h["content-type"], "application/json");

        // The same HMAC computed by hand, not by the crate we sign with.
        use base64::Engine;
        use hmac::Mac;
        let key = base64::engine::general_purpose::STANDARD
            .decode(SPEC_SECRET.trim_start_matches("whsec_"))
            .unwrap();
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
        mac.update(format!("{SPEC_ID}.{SPEC_TIMESTAMP}.").as_bytes());
        mac.update(SPEC_BODY);
        let ours = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
        assert_eq!(format!("v1,{ours}"), SPEC_SIGNATURE);
    }

    #[test]
    fn the_specification_vector_verifies_only_within_the_tolerance() {
        let wh = standardwebhooks::Webhook::new(SPEC_SECRET).unwrap();
        let h = sign(SPEC_SECRET, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY).unwrap();
        // 2021 is far outside the five minutes a verifier accepts.
        assert!(matches!(
            wh.verify(SPEC_BODY, &h),
            Err(standardwebhooks::WebhookError::TimestampTooOldError)
        ));
        let fresh = sign(SPEC_SECRET, SPEC_ID, Utc::now().timestamp(), SPEC_BODY).unwrap();
        wh.verify(SPEC_BODY, &fresh).unwrap();
        let mut tampered = fresh.clone();
        tampered.insert("webhook-id", HeaderValue::from_static("msg_other"));
        assert!(wh.verify(SPEC_BODY, &tampered).is_err());
        assert!(wh.verify(br#"{"test": 2432232315}"#, &fresh).is_err());
    }

    #[test]
    fn refuses_bad_secrets_and_ids() {
        assert!(sign("whsec_not base64!", "msg_1", 1, b"{}").is_err());
        assert!(sign(SPEC_SECRET, "msg_1\r\nX-Evil: 1", 1, b"{}").is_err());
    }
}
