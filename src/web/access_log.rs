//! Each request's span and its line in the access log, with the secrets some
//! paths carry hidden.
use actix_web::{
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    http::header::{HeaderName, HeaderValue},
    middleware::Next,
};
use tracing::Instrument;

use super::request_id::{self, RequestId};

/// The access log's target, so the operator can set its level apart from the
/// rest: `RUST_LOG=info,statuspost::access=off`.
pub const TARGET: &str = "statuspost::access";

/// Runs the request in a span naming its method, redacted path and request id
/// (so every line a handler logs carries them), answers with its
/// `X-Request-Id`, and logs one access line: status, method, path and query,
/// duration, id. `/health` is polled too often to be worth a line.
pub async fn trace(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let began = std::time::Instant::now();
    let id = RequestId::of(req.headers());
    let method = req.method().clone();
    let target = redact(req.uri().path_and_query().map_or("/", |p| p.as_str()));
    let path = target.split_once('?').map_or(target.as_str(), |(p, _)| p);
    let quiet = req.path() == "/health";
    // At error level so the span is on whenever anything is logged: with
    // `RUST_LOG=warn` the warnings are the lines that most need the id.
    let span = tracing::error_span!("request", %method, path = %path, request_id = %id);
    // Handlers' errors, 404s included, come back as responses. An `Err` is
    // only a middleware's own, and the server answers it: it is logged, but
    // its answer cannot carry the id (the request is gone with it, and a
    // clone kept here would stop the router from matching it).
    let outcome = next.call(req).instrument(span).await;
    if !quiet {
        let status = match &outcome {
            Ok(res) => res.status(),
            Err(e) => e.as_response_error().status_code(),
        };
        let ms = began.elapsed().as_secs_f64() * 1000.0;
        tracing::info!(
            target: TARGET,
            request_id = %id,
            "{} {method} {target} {ms:.3}ms",
            status.as_u16()
        );
    }
    let mut res = outcome?;
    if let Ok(value) = HeaderValue::from_str(id.as_str()) {
        res.headers_mut()
            .insert(HeaderName::from_static(request_id::HEADER), value);
    }
    Ok(res)
}

/// Confirmation, unsubscribe and setup links carry their token in the path,
/// and whoever reads the log must not be able to follow them. Any segment or
/// query value that looks like one of our tokens (long, URL-safe base64) is
/// hidden, so a new route with a token in it is covered without a list here.
pub fn redact(path_and_query: &str) -> String {
    let (path, query) = match path_and_query.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (path_and_query, None),
    };
    let mut out: String = path
        .split('/')
        .map(hide_token)
        .collect::<Vec<_>>()
        .join("/");
    if let Some(q) = query {
        out.push('?');
        let pairs: Vec<String> = q
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((k, v)) => format!("{k}={}", hide_token(v)),
                None => hide_token(pair).to_owned(),
            })
            .collect();
        out.push_str(&pairs.join("&"));
    }
    out
}

fn hide_token(s: &str) -> &str {
    // Our tokens are 43 characters; ids, slugs and zone names are far shorter.
    let looks_random = s.len() >= 24
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if looks_random {
        "[redacted]"
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_in_paths_and_queries_are_hidden() {
        let t = crate::secrets::random_token();
        assert_eq!(
            redact(&format!("/subscribe/confirm/{t}")),
            "/subscribe/confirm/[redacted]"
        );
        assert_eq!(
            redact(&format!("/unsubscribe/{t}?x=1")),
            "/unsubscribe/[redacted]?x=1"
        );
        assert_eq!(
            redact(&format!("/admin/setup/{t}")),
            "/admin/setup/[redacted]"
        );
        assert_eq!(
            redact(&format!("/a?token={t}&tz=Europe/Paris")),
            "/a?token=[redacted]&tz=Europe/Paris"
        );
        assert_eq!(redact("/incidents/42"), "/incidents/42");
        assert_eq!(redact("/history?page=2"), "/history?page=2");
        assert_eq!(
            redact("/api/v2/incidents/unresolved.json"),
            "/api/v2/incidents/unresolved.json"
        );
    }
}
