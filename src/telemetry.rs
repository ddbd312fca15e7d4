//! Logs go through `tracing`; `RUST_LOG` picks what is shown.
use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::{fmt, EnvFilter};

/// Installs the process's subscriber. Lines are queued and written to stderr
/// by a thread of their own, so a request never waits on a slow terminal or
/// pipe; the guard returned flushes the queue when dropped, so hold it until
/// the process is about to exit.
pub fn init() -> WorkerGuard {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn,sea_orm_migration=warn"));
    let (writer, guard) = tracing_appender::non_blocking(std::io::stderr());
    let _ = fmt()
        .with_env_filter(filter)
        .with_target(false)
        // stdout is for what a command prints; logs go to stderr.
        .with_writer(writer)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
    guard
}
