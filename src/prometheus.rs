//! Prometheus metrics: counters and histograms recorded where things happen
//! (requests, deliveries, the page cache), rendered by `GET /metrics`.
use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Seconds; from a cached page (well under a millisecond) to a slow render.
const REQUEST_BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

/// Seconds; a send is a network round trip or several.
const SEND_BUCKETS: [f64; 10] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0, 15.0];

/// The process's recorder, installed on first use: one per process, however
/// many apps a test starts in it.
pub fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(
                Matcher::Full("statuspost_http_request_duration_seconds".into()),
                &REQUEST_BUCKETS,
            )
            .and_then(|b| {
                b.set_buckets_for_metric(
                    Matcher::Full("statuspost_delivery_duration_seconds".into()),
                    &SEND_BUCKETS,
                )
            })
            .expect("bucket lists are not empty")
            .build_recorder();
        let handle = recorder.handle();
        // Another recorder may be installed already (a test harness): then
        // this one renders nothing, which is better than failing to start.
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}
