use std::io::{IsTerminal, Read};
use std::path::PathBuf;

use clap::{Parser, Subcommand};
use statuspost::config::Settings;
use statuspost::domain::{DisplayName, EmailAddress, Password, TokenName, TokenScope};
use statuspost::startup::{self, Application};

/// statuspost: an incident status page and subscriber notifications.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// Settings file (default: ./statuspost.toml when it exists).
    #[arg(long, global = true, env = "STATUSPOST_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the status page, the admin and the APIs (the default command).
    Serve {
        /// Address to listen on, overriding STATUSPOST_BIND.
        #[arg(long)]
        bind: Option<String>,
    },
    /// Bring the database schema up to date and exit.
    Migrate,
    /// Send notifications without serving pages (run `serve` with
    /// STATUSPOST_RUN_WORKER=false to keep the worker out of it).
    Worker,
    /// Manage staff accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage subscribers.
    Subscribers {
        #[command(subcommand)]
        command: SubscribersCommand,
    },
    /// Manage API tokens (also on the admin page /admin/tokens).
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Write the whole public site as static files into DIR: the page, every
    /// incident, the history, the uptime calendars, the read API under
    /// api/v2/*.json, the feeds, the badge and the assets. Any web server or
    /// object store serves it, under any prefix. Running it again brings DIR
    /// up to date: changed files are replaced one by one, each at once, and
    /// the files of deleted incidents removed.
    ///
    /// DIR may also be s3://bucket/prefix: an S3-compatible bucket reached
    /// with the STATUSPOST_STATIC_S3_* settings.
    ExportStatic { dir: String },
    /// Break glass, while the database is unreachable: post an update (or
    /// open an incident) into the static copy in STATUSPOST_STATIC_DIR at
    /// once, and into the journal (STATUSPOST_JOURNAL) that `journal replay`
    /// writes into the database when it is back. Needs a snapshot that an
    /// export wrote beforehand (export-static or serve, with the copy set).
    Post {
        /// Required: the database is not asked (posting with it is the admin's or the API's job).
        #[arg(long, required = true)]
        offline: bool,
        /// The incident's number, or the offline-… name a new offline incident was given.
        #[arg(long, conflicts_with_all = ["title", "impact"], required_unless_present = "title")]
        incident: Option<String>,
        /// Opens a new incident with this title.
        #[arg(long)]
        title: Option<String>,
        /// The new incident's impact: none, minor, major or critical.
        #[arg(long, default_value = "major")]
        impact: Option<String>,
        /// investigating, identified, monitoring or resolved.
        #[arg(long)]
        status: String,
        /// The update's text (Markdown); `-` reads it from stdin.
        #[arg(long)]
        message: String,
        /// The staff member's email it is posted as (default: the first admin).
        #[arg(long)]
        author: Option<String>,
    },
    /// The journal of offline posts.
    Journal {
        #[command(subcommand)]
        command: JournalCommand,
    },
    /// Load the demo incident (the February 28, 2008 post); running it twice adds nothing.
    Demo,
    /// Write a backup of every table to one file, while `serve` keeps serving
    /// and writing: one consistent snapshot, with a manifest of row counts,
    /// checksums and digests of the pages. The file holds password hashes and
    /// secrets and is created readable by its owner alone.
    Backup {
        /// Where to write it (default: statuspost-backup-YYYYMMDDTHHMMSSZ.tar here).
        /// An existing file is never overwritten.
        #[arg(long)]
        out: Option<PathBuf>,
        #[command(subcommand)]
        command: Option<BackupCommand>,
    },
    /// Replace the database's contents with a backup (SQLite or PostgreSQL,
    /// from either). The whole file is checked first; a damaged, cut-short or
    /// newer-schema file is refused and nothing is touched. The restore is one
    /// transaction: stopped half-way, it leaves the database as it was. Stop
    /// `serve` and `worker` first.
    Restore {
        /// The backup to restore (or --at TIME instead).
        #[arg(required_unless_present = "at", conflicts_with = "at")]
        file: Option<PathBuf>,
        /// Restore the data as it was at TIME (RFC 3339, or "YYYY-MM-DD
        /// HH:MM:SS" in UTC): the newest scheduled backup or point in the
        /// backup folder taken at or before it.
        #[arg(long, value_name = "TIME")]
        at: Option<String>,
        /// The backup folder --at looks in (default: STATUSPOST_BACKUP_DIR).
        #[arg(long, requires = "at")]
        dir: Option<PathBuf>,
        /// Restore over a database that holds data, after writing a backup of
        /// it beside FILE (statuspost-before-restore-...tar).
        #[arg(long)]
        force: bool,
    },
}

#[derive(Subcommand)]
enum BackupCommand {
    /// Check that a backup restores: a trial restore into a scratch database,
    /// then the front page, every incident page and the v2 documents rendered
    /// from it, compared with what they were when the backup was taken.
    /// Touches no database of yours.
    Verify { file: PathBuf },
    /// List the backups in the backup folder, newest first: when, name, size,
    /// whether it verified, and what changed since the one before. A line
    /// starting with `!` follows an unusual change (rows removed or rewritten
    /// in bulk): the backup before it is the last good one.
    List {
        /// The folder (default: STATUSPOST_BACKUP_DIR).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum JournalCommand {
    /// Write every offline post not yet in the database into it, with its
    /// original time; subscribers are notified then. Replaying twice writes once.
    Replay,
    /// List the offline posts not yet in the database.
    List,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a staff account. The password is read from stdin when it is not a
    /// terminal, else prompted for twice.
    Add {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// May manage staff accounts.
        #[arg(long)]
        admin: bool,
    },
}

#[derive(Subcommand)]
enum SubscribersCommand {
    /// Import subscribers from a CSV file with a header row naming its columns:
    /// email or webhook_url, and optionally components (names separated by ';'),
    /// secret and status (confirmed, pending, disabled or unsubscribed, as the
    /// export writes it). Each row keeps its status; rows without one are
    /// confirmed. Rows already subscribed, and addresses that unsubscribed
    /// here, are left as they are; bad rows are reported by line number and
    /// the rest imported.
    Import {
        file: PathBuf,
        /// Confirm every row, whatever its status says (but for unsubscribed):
        /// only for a list you know opted in elsewhere.
        #[arg(long)]
        confirm: bool,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create a token and print it; it is shown only this once.
    Add {
        /// Who or what uses it, e.g. "deploy script".
        #[arg(long)]
        name: String,
        /// read (list and get) or write (also create, update, delete).
        #[arg(long, default_value = "read")]
        scope: String,
        /// The staff member whose name writes through this token appear under
        /// (default: the first admin).
        #[arg(long = "as")]
        as_staff: Option<String>,
    },
    /// List tokens (never their secrets).
    List,
    /// Revoke a token by its id.
    Revoke { id: i32 },
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let logs = statuspost::telemetry::init();
    let cli = Cli::parse();
    let outcome = run(cli).await;
    // Flushes the lines still queued, before the error that follows them
    // (`process::exit` would skip this and lose them).
    drop(logs);
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // One line, so a bad setting reads at a glance.
            eprintln!("statuspost: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Waits for SIGTERM (a service manager stopping us) or SIGINT (Ctrl-C).
async fn stopping() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate()).expect("a SIGTERM handler");
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let mut settings = Settings::load(cli.config.as_deref())?;
    match cli.command.unwrap_or(Command::Serve { bind: None }) {
        Command::Serve { bind } => {
            if let Some(bind) = bind {
                settings.set_bind(&bind);
            }
            let app = Application::build(settings).await?;
            tracing::info!(port = app.port(), "statuspost is serving");
            app.run_until_stopped().await?;
        }
        Command::Worker => {
            let db = startup::open_database(&settings).await?;
            let state = startup::state(settings, db).await?;
            // Mail shows times in the page zone, which staff may change meanwhile.
            if let Some(zone) = state.followed_zone() {
                let held = statuspost::render::invalidation::Held {
                    cache: None,
                    zone: Some(zone),
                };
                tokio::spawn(statuspost::render::invalidation::follow(
                    state.db.clone(),
                    held,
                    None,
                ));
            }
            let worker = statuspost::notify::worker::spawn(state.worker());
            tracing::info!("statuspost worker is running");
            stopping().await;
            worker.stop().await;
        }
        Command::Migrate => {
            startup::open_database(&settings).await?;
            println!("database is up to date");
        }
        Command::User {
            command: UserCommand::Add { email, name, admin },
        } => {
            let email = EmailAddress::parse(&email)?;
            let name = DisplayName::parse(&name)?;
            let password = Password::parse(&read_password()?)?;
            let db = startup::open_database(&settings).await?;
            let staff = statuspost::store::staff::create(
                &db,
                statuspost::store::staff::NewStaff {
                    email,
                    name,
                    password,
                    is_admin: admin,
                },
            )
            .await?;
            println!(
                "added {} <{}>{}",
                staff.name,
                staff.email,
                if staff.is_admin { " (admin)" } else { "" }
            );
        }
        Command::Subscribers {
            command: SubscribersCommand::Import { file, confirm },
        } => {
            let input = std::fs::File::open(&file)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
            let db = startup::open_database(&settings).await?;
            let report = statuspost::subscriber_csv::import(&db, input, confirm).await?;
            for (line, message) in &report.errors {
                eprintln!("{}: line {line}: {message}", file.display());
            }
            let n = |count: usize, one: &str, many: &str| {
                format!("{count} {}", if count == 1 { one } else { many })
            };
            println!(
                "imported {} ({} confirmed, {} pending, {} disabled, {} unsubscribed); {} confirmed that were waiting for confirmation; {} already subscribed; {} left unsubscribed, as they asked here; {} not imported",
                n(report.added(), "new subscriber", "new subscribers"),
                report.added_confirmed,
                report.added_pending,
                report.added_disabled,
                report.added_unsubscribed,
                report.confirmed,
                report.present,
                report.left_unsubscribed,
                n(report.errors.len(), "row", "rows"),
            );
            if !report.errors.is_empty() {
                anyhow::bail!(
                    "{} of {} not imported (listed above); the others were",
                    n(report.errors.len(), "row", "rows"),
                    file.display()
                );
            }
        }
        Command::Token { command } => token(&settings, command).await?,
        Command::Backup { out, command } => match command {
            None => println!(
                "{}",
                statuspost::recovery::backup(&settings, out)
                    .await?
                    .summary()
            ),
            Some(BackupCommand::List { dir }) => {
                use statuspost::recovery::catalogue;
                let dir = dir.unwrap_or_else(|| settings.backup_dir.clone());
                let listed = catalogue::list(&dir)
                    .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", dir.display()))?;
                if listed.is_empty() {
                    anyhow::bail!("no backups in {}", dir.display());
                }
                for l in &listed {
                    println!("{}", l.line());
                }
                if let Some(good) = catalogue::last_good(&listed) {
                    eprintln!(
                        "the newest verified backup before the latest unusual change: {}",
                        good.path.display()
                    );
                }
            }
            Some(BackupCommand::Verify { file }) => {
                let verified = statuspost::recovery::verify(&settings, &file).await?;
                for line in &verified.lines {
                    println!("{line}");
                }
                if !verified.differ.is_empty() {
                    anyhow::bail!(
                        "{} does not restore to what it held: {} pages differ",
                        file.display(),
                        verified.differ.len()
                    );
                }
            }
        },
        Command::Restore {
            file,
            at,
            dir,
            force,
        } => {
            let done = match (file, at) {
                (_, Some(at)) => {
                    let at = statuspost::recovery::points::parse_time(&at)?;
                    statuspost::recovery::restore_at(&settings, dir, at, force).await?
                }
                (Some(file), None) => {
                    statuspost::recovery::restore(&settings, &file, force).await?
                }
                (None, None) => anyhow::bail!("name a backup file, or --at TIME"),
            };
            println!("{done}");
        }
        Command::ExportStatic { dir } => {
            let db = startup::open_database(&settings).await?;
            // The id `serve` gives the page, so the copy's API names the same one.
            startup::page_id(&db).await?;
            let state =
                statuspost::recovery::pages::render_state(settings, db.clone(), &db).await?;
            let to = statuspost::recovery::static_site::Target::parse(&dir, &state.settings)?;
            let written = statuspost::recovery::static_site::export(&state, &to).await?;
            println!("{}", written.summary(&to));
            if let Some(e) = written.snapshot_failed {
                anyhow::bail!("{e}");
            }
        }
        Command::Post {
            offline: _,
            incident,
            title,
            impact,
            status,
            message,
            author,
        } => {
            use statuspost::recovery::journal::{self, Post};
            let message = if message == "-" {
                let mut s = String::new();
                std::io::stdin().read_to_string(&mut s)?;
                s.trim_end().to_owned()
            } else {
                message
            };
            let post = match (incident, title) {
                (Some(incident), _) => Post::Update { incident },
                (None, Some(title)) => Post::Incident {
                    title,
                    impact: impact.unwrap_or_default(),
                },
                (None, None) => anyhow::bail!("give --incident ID, or --title for a new incident"),
            };
            println!(
                "{}",
                journal::post_offline(&settings, post, &status, &message, author).await?
            );
        }
        Command::Journal { command } => {
            use statuspost::recovery::journal;
            let db = startup::open_database(&settings).await?;
            match command {
                JournalCommand::Replay => {
                    let replayed = journal::replay(&settings, &db).await?;
                    for line in &replayed.lines {
                        println!("{line}");
                    }
                    if replayed.failed > 0 {
                        anyhow::bail!(
                            "{} journal entries not written (listed above); the others are",
                            replayed.failed
                        );
                    }
                }
                JournalCommand::List => {
                    let pending = journal::pending(&settings, &db).await?;
                    if pending.is_empty() {
                        println!("no offline posts wait to be replayed");
                    }
                    for line in pending {
                        println!("{line}");
                    }
                }
            }
        }
        Command::Demo => {
            let db = startup::open_database(&settings).await?;
            if statuspost::demo::load(&db, settings.timezone.is_some()).await? {
                println!("loaded the demo incident");
            } else {
                println!("the demo incident is already loaded");
            }
            // What to do next, for someone who has just tried the program.
            println!(
                "serve it with `statuspost serve` and open {}",
                settings.link("")
            );
            if statuspost::store::staff::count(&db).await? == 0 {
                println!(
                    "no staff account yet: `statuspost serve` logs a one-time link to create the \
                     first admin, or add one now with \
                     `statuspost user add --email you@example.com --name \"Your Name\" --admin`"
                );
            }
        }
    }
    Ok(())
}

async fn token(settings: &Settings, command: TokenCommand) -> anyhow::Result<()> {
    use statuspost::store::{api_tokens, staff};
    let db = startup::open_database(settings).await?;
    match command {
        TokenCommand::Add {
            name,
            scope,
            as_staff,
        } => {
            let scope = TokenScope::parse(&scope)?;
            let name = TokenName::parse(&name)?;
            let owner = match as_staff {
                Some(email) => staff::find_by_email(&db, &email)
                    .await?
                    .ok_or_else(|| anyhow::anyhow!("no staff account {email}"))?,
                None => staff::list(&db)
                    .await?
                    .into_iter()
                    .filter(|s| s.is_admin && s.active)
                    .min_by_key(|s| s.id)
                    .ok_or_else(|| {
                        anyhow::anyhow!(
                            "no admin yet: add one with `statuspost user add --admin` first"
                        )
                    })?,
            };
            let (_, secret) = api_tokens::create(&db, &name, scope, owner.id).await?;
            println!("{secret}");
        }
        TokenCommand::List => {
            let staff = statuspost::store::staff::list(&db).await?;
            for api_tokens::TokenView { model: t, scope } in api_tokens::list(&db).await? {
                let owner = staff.iter().find(|s| s.id == t.created_by);
                let state = match (t.revoked_at, t.last_used_at) {
                    (Some(at), _) => format!("revoked {}", at.to_rfc3339()),
                    _ if !owner.is_some_and(api_tokens::owner_may_use) => {
                        "not working: its owner is no longer an active admin".into()
                    }
                    (None, Some(at)) => format!("last used {}", at.to_rfc3339()),
                    (None, None) => "never used".into(),
                };
                println!("{}\t{}\t{}\t{}", t.id, scope.as_str(), t.name, state);
            }
        }
        TokenCommand::Revoke { id } => {
            if api_tokens::revoke(&db, id).await? {
                println!("revoked token {id}");
            } else {
                anyhow::bail!("no live token {id}");
            }
        }
    }
    Ok(())
}

fn read_password() -> anyhow::Result<String> {
    if !std::io::stdin().is_terminal() {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s)?;
        return Ok(s.trim_end_matches(['\r', '\n']).to_owned());
    }
    let first = rpassword::prompt_password("Password: ")?;
    let second = rpassword::prompt_password("Password again: ")?;
    if first != second {
        anyhow::bail!("the two passwords differ");
    }
    Ok(first)
}
