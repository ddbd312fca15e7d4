//! Builds the application: database, migrations, state, HTTP server.
use std::net::TcpListener;
use std::sync::Arc;

use actix_web::{dev::Server, middleware, web, App, HttpServer};
use anyhow::Context;
use migration::{Migrator, MigratorTrait};
use sea_orm::DatabaseConnection;

use crate::config::Settings;
use crate::domain::PageZone;
use crate::notify::webhook::WebhookSender;
use crate::render::statuspage::PageInfo;
use crate::state::AppState;
use crate::store;

pub struct Application {
    port: u16,
    server: Server,
    state: web::Data<AppState>,
    /// The in-process delivery worker, stopped after the server.
    worker: Option<crate::notify::worker::Worker>,
    /// Scheduled backups, stopped with the worker.
    backups: Option<crate::recovery::scheduled::Scheduler>,
    /// The one-time link to create the first admin, when there is no staff yet.
    pub setup_link: Option<String>,
}

/// Opens the database and brings its schema up to date.
pub async fn open_database(settings: &Settings) -> anyhow::Result<DatabaseConnection> {
    let url = secrecy::ExposeSecret::expose_secret(&settings.database_url);
    // The driver's error may quote the URL: scrub it as well as our own words.
    let db = store::connect(url).await.map_err(|e| {
        anyhow::anyhow!(
            "cannot open the database at {}: {}",
            crate::secrets::redact_url(url),
            crate::secrets::scrub(&e.to_string(), url)
        )
    })?;
    Migrator::up(&db, None)
        .await
        .context("database migration failed")?;
    Ok(db)
}

/// The page's id in the read API, made once and kept in the database.
pub async fn page_id(db: &DatabaseConnection) -> anyhow::Result<String> {
    Ok(
        store::settings::get_or_init(db, store::settings::PAGE_ID, || {
            crate::secrets::random_token()[..12].to_lowercase()
        })
        .await?,
    )
}

/// Everything a server or a worker process shares, from settings and the database.
pub async fn state(settings: Settings, db: DatabaseConnection) -> anyhow::Result<AppState> {
    let secret = match &settings.secret_key {
        Some(k) => secrecy::ExposeSecret::expose_secret(k).as_bytes().to_vec(),
        None => store::settings::get_or_init(
            &db,
            store::settings::SECRET_KEY,
            crate::secrets::random_token,
        )
        .await?
        .into_bytes(),
    };
    let page_zone = match settings.timezone {
        Some(z) => z,
        None => store::settings::page_zone(&db)
            .await?
            .unwrap_or(PageZone::parse("UTC").expect("UTC exists")),
    };
    let page_id = page_id(&db).await?;
    let page = PageInfo {
        id: page_id,
        name: settings.page_name.clone(),
        url: settings.link(""),
        zone: crate::render::statuspage::SharedZone::new(page_zone),
    };
    let mailer = Arc::new(crate::notify::mail::Mailer::from_settings(&settings)?);
    let tera = crate::render::templates::load().map_err(|e| anyhow::anyhow!("templates: {e:?}"))?;
    let webhooks = WebhookSender::new(settings.webhook_allow_private);
    let cache = Arc::new(crate::render::cache::PageCache::new(
        settings.page_cache_bytes,
    ));
    Ok(AppState {
        db,
        settings,
        tera: Arc::new(tera),
        cache,
        secret,
        page,
        throttle: Default::default(),
        signup_throttle: Default::default(),
        wake_worker: Arc::new(tokio::sync::Notify::new()),
        mailer,
        webhooks,
    })
}

impl Application {
    pub async fn build(mut settings: Settings) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(&settings.bind)
            .with_context(|| format!("cannot listen on {}", settings.bind))?;
        // With port 0 (tests), the bind and a base URL made from it name the port we got.
        let bound = listener.local_addr()?;
        if settings.bind.ends_with(":0") {
            settings.set_bind(&bound.to_string());
        }
        // Installed before any request or delivery is counted.
        crate::prometheus::handle();
        // Secrets print as [REDACTED]: the whole picture is safe to log.
        tracing::info!(?settings, "settings");
        let db = open_database(&settings).await?;
        let state = web::Data::new(state(settings, db).await?);
        let generation = store::settings::page_generation(&state.db).await?;
        tokio::spawn(crate::render::invalidation::follow(
            state.db.clone(),
            state.held(),
            Some(generation),
        ));

        for to in crate::recovery::static_site::Target::from_settings(&state.settings)? {
            tokio::spawn(crate::recovery::static_site::keep_published(
                state.clone(),
                to,
            ));
        }

        let setup_link = if store::staff::count(&state.db).await? == 0 {
            let token =
                store::staff::new_signup_token(&state.db, true, chrono::Duration::hours(24))
                    .await?;
            let link = state.settings.link(&format!("admin/setup/{token}"));
            tracing::warn!("No staff account yet. Create the first admin at {link} (single use, expires in 24 hours).");
            Some(link)
        } else {
            None
        };

        let worker = state
            .settings
            .run_worker
            .then(|| crate::notify::worker::spawn(state.worker()));

        let backups = crate::recovery::scheduled::spawn(state.settings.clone())?;

        let port = listener.local_addr()?.port();
        let data = state.clone();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                // Every form and API body is read as bytes under this one limit.
                .app_data(web::PayloadConfig::default().limit(1024 * 1024))
                .wrap(middleware::from_fn(crate::web::error::render_pages))
                .wrap(middleware::from_fn(crate::web::ops::measure))
                .wrap(crate::web::security::headers())
                .wrap(middleware::Compress::default())
                .wrap(middleware::from_fn(crate::web::access_log::trace))
                .service(crate::web::assets::asset)
                .service(crate::web::public::index)
                .service(crate::web::public::incident)
                .service(crate::web::public::history)
                .service(crate::web::uptime::calendars)
                .service(crate::web::time_zone::picker)
                .service(crate::web::public::health)
                .service(crate::web::ops::ready)
                .service(crate::web::ops::metrics)
                .service(crate::web::api_v2::summary)
                .service(crate::web::api_v2::status)
                .service(crate::web::api_v2::components)
                .service(crate::web::api_v2::incidents)
                .service(crate::web::api_v2::unresolved)
                .service(crate::web::api_v2::scheduled_maintenances)
                .service(crate::web::api_v2::upcoming_maintenances)
                .service(crate::web::api_v2::active_maintenances)
                .service(crate::web::uptime::component_uptime)
                .service(crate::web::feeds::feed_atom)
                .service(crate::web::feeds::feed_rss)
                .service(crate::web::feeds::history_atom)
                .service(crate::web::feeds::history_rss)
                .service(crate::web::feeds::maintenance_ics)
                .service(crate::web::badge::badge)
                .service(crate::web::api_v2::openapi)
                .configure(crate::web::api_v1::configure)
                .configure(crate::web::admin::configure)
                .configure(crate::web::subscribe::configure)
                .configure(crate::web::subscription::configure)
                .default_service(web::to(not_found))
        })
        .listen(listener)?
        .shutdown_timeout(10)
        .run();
        Ok(Self {
            port,
            server,
            state,
            worker,
            backups,
            setup_link,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn state(&self) -> web::Data<AppState> {
        self.state.clone()
    }

    /// Serves until SIGTERM or SIGINT (actix's handlers stop the server and let
    /// requests in flight finish), then stops the worker the same way.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let served = self.server.await;
        if let Some(backups) = self.backups {
            backups.stop().await;
        }
        if let Some(worker) = self.worker {
            worker.stop().await;
        }
        served
    }
}

async fn not_found() -> Result<actix_web::HttpResponse, crate::web::AppError> {
    Err(crate::web::AppError::NotFound)
}
