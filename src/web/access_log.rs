//! The access log, with the secrets some paths carry hidden.
use actix_web::{dev::ServiceRequest, middleware::Logger};

/// One line a request: status, method, path, duration.
pub fn logger() -> Logger {
    Logger::new("%s %{request}xi %Dms")
        .custom_request_replace("request", |req: &ServiceRequest| {
            format!(
                "{} {}",
                req.method(),
                redact(req.uri().path_and_query().map_or("/", |p| p.as_str()))
            )
        })
        .exclude("/health")
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
