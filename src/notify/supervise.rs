//! Keeps a background task alive: a task that panics or returns is logged and
//! started again, until it is asked to stop.
use std::time::Duration;

use tokio_util::sync::CancellationToken;

/// Runs the task `start` makes until `stop` is cancelled: whenever it ends
/// before that (a panic, or a return it should never make) the failure is
/// logged as an error and a new one is started after a pause that doubles
/// from one second up to a minute, and falls back to one second once a run has lasted a minute.
pub async fn supervise<F, Fut>(name: &'static str, stop: CancellationToken, mut start: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    const FIRST: Duration = Duration::from_secs(1);
    const LAST: Duration = Duration::from_secs(60);
    let mut pause = FIRST;
    loop {
        let began = tokio::time::Instant::now();
        let ended = tokio::spawn(start()).await;
        if stop.is_cancelled() {
            // Asked to stop: the task's return is the normal end.
            return;
        }
        match ended {
            Ok(()) => tracing::error!(task = name, "stopped unexpectedly; restarting"),
            Err(e) if e.is_panic() => {
                let why = e.into_panic();
                let why = why
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| why.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                tracing::error!(task = name, panic = %why, "panicked; restarting");
            }
            Err(e) => tracing::error!(task = name, error = %e, "was cancelled; restarting"),
        }
        if began.elapsed() >= LAST {
            pause = FIRST;
        }
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = stop.cancelled() => return,
        }
        pause = (pause * 2).min(LAST);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_task_that_panics_is_restarted() {
        let starts = Arc::new(AtomicU32::new(0));
        let counted = starts.clone();
        let supervisor = tokio::spawn(supervise(
            "test task",
            CancellationToken::new(),
            move || {
                let n = counted.fetch_add(1, Ordering::SeqCst);
                async move {
                    if n < 2 {
                        panic!("boom {n}");
                    }
                    std::future::pending::<()>().await;
                }
            },
        ));
        // Paused time advances by itself when every task waits on a timer.
        tokio::time::sleep(Duration::from_secs(10)).await;
        assert_eq!(starts.load(Ordering::SeqCst), 3, "two panics, two restarts");
        assert!(!supervisor.is_finished());
        supervisor.abort();
    }

    #[tokio::test(start_paused = true)]
    async fn a_task_asked_to_stop_is_not_restarted() {
        let stop = CancellationToken::new();
        let starts = Arc::new(AtomicU32::new(0));
        let (counted, token) = (starts.clone(), stop.clone());
        let supervisor = tokio::spawn(supervise("test task", stop.clone(), move || {
            counted.fetch_add(1, Ordering::SeqCst);
            let token = token.clone();
            async move { token.cancelled().await }
        }));
        tokio::time::sleep(Duration::from_secs(1)).await;
        stop.cancel();
        supervisor.await.expect("the supervisor returns");
        assert_eq!(starts.load(Ordering::SeqCst), 1);
    }
}
