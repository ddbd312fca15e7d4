//! The backup folder for admins: `/admin/backups` lists what `backup list`
//! prints, the last good backup named when a change looks unusual, and
//! `/admin/backups/{name}` hands out one file. Only a name of the catalogue's
//! own shape that is in the folder is served, so no path reaches the disk.
use actix_web::{get, http::StatusCode, web, HttpResponse};

use super::AdminPage;
use crate::recovery::catalogue::{self, Listed};
use crate::render::time;
use crate::state::AppState;
use crate::store::audit::{Actor, Subject};
use crate::web::{audit, auth, csrf, AppError};

/// Reading a file: 64 KiB at a time.
const CHUNK: usize = 64 * 1024;

async fn folder(state: &AppState) -> Result<Vec<Listed>, AppError> {
    let dir = state.settings.backup_dir.clone();
    let shown = dir.display().to_string();
    web::block(move || catalogue::list(&dir))
        .await
        .map_err(|e| AppError::Internal(e.into()))?
        .map_err(|e| AppError::Internal(anyhow::anyhow!("cannot read {shown}: {e}")))
}

#[get("/backups")]
pub async fn index(
    state: web::Data<AppState>,
    me: auth::Admin,
    token: csrf::CsrfToken,
) -> Result<HttpResponse, AppError> {
    let listed = folder(&state).await?;
    let tz = state.page.zone().tz();
    let rows: Vec<_> = listed
        .iter()
        .map(|l| {
            serde_json::json!({
                "name": l.name,
                "at": time::date_time(l.at, tz),
                "iso": time::iso(l.at, tz),
                "size": crate::recovery::human_bytes(l.bytes),
                "verified": l.verified(),
                "failed": l.failed(),
                "checked": l.record.as_ref().map(|r| r.verified.lines.join("\n")),
                "unusual": l.unusual(),
                "changes": l.changes(),
            })
        })
        .collect();
    AdminPage::new(&state, "admin/backups.html", Some(&me.0), &token)
        .insert("backups", &rows)
        .insert("last_good", &catalogue::last_good(&listed).map(|l| &l.name))
        .insert("dir", &state.settings.backup_dir.display().to_string())
        .insert(
            "every",
            &state
                .settings
                .backup_every
                .map(|d| interval_text(d.as_secs())),
        )
        .render(StatusCode::OK)
}

/// "1h", "15m", "30s": how often, as the setting is written.
fn interval_text(secs: u64) -> String {
    match secs {
        s if s % 3600 == 0 => format!("{}h", s / 3600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

#[get("/backups/{name}")]
pub async fn download(
    state: web::Data<AppState>,
    me: auth::Admin,
    name: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let name = name.into_inner();
    if catalogue::stamp_of(&name).is_none() {
        return Err(AppError::NotFound);
    }
    let Some(found) = folder(&state).await?.into_iter().find(|l| l.name == name) else {
        return Err(AppError::NotFound);
    };
    let file = tokio::fs::File::open(&found.path)
        .await
        .map_err(|_| AppError::NotFound)?;
    let bytes = file
        .metadata()
        .await
        .map_err(|e| AppError::Internal(e.into()))?
        .len();
    audit::record(
        &state,
        &Actor::staff(&me.0),
        "backup.download",
        Subject {
            kind: "backup",
            id: None,
        },
        format!("Downloaded the backup {name}"),
        None,
        None,
    )
    .await;
    let chunks = futures_util::stream::try_unfold(file, |mut file| async move {
        use tokio::io::AsyncReadExt;
        let mut buf = vec![0; CHUNK];
        let n = file.read(&mut buf).await?;
        if n == 0 {
            return Ok::<_, std::io::Error>(None);
        }
        buf.truncate(n);
        Ok(Some((web::Bytes::from(buf), file)))
    });
    Ok(HttpResponse::Ok()
        .content_type("application/x-tar")
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"{name}\""),
        ))
        .insert_header(("Cache-Control", "no-store"))
        .body(actix_web::body::SizedStream::new(bytes, chunks)))
}
