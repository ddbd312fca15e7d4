//! Key-value settings that live in the database, shared by every process.
use sea_orm::{sea_query::OnConflict, ConnectionTrait, EntityTrait, Set};

use crate::entity::setting;

pub const SECRET_KEY: &str = "secret_key";
pub const PAGE_TIMEZONE: &str = "page_timezone";
pub const PAGE_ID: &str = "page_id";

pub async fn get(db: &impl ConnectionTrait, key: &str) -> Result<Option<String>, sea_orm::DbErr> {
    Ok(setting::Entity::find_by_id(key.to_owned())
        .one(db)
        .await?
        .map(|m| m.value))
}

pub async fn set(db: &impl ConnectionTrait, key: &str, value: &str) -> Result<(), sea_orm::DbErr> {
    setting::Entity::insert(setting::ActiveModel {
        key: Set(key.to_owned()),
        value: Set(value.to_owned()),
    })
    .on_conflict(
        OnConflict::column(setting::Column::Key)
            .update_column(setting::Column::Value)
            .to_owned(),
    )
    .exec(db)
    .await?;
    Ok(())
}

/// Returns the stored value, or stores `make()` if there is none. When two
/// processes race, both end up with the value that won.
pub async fn get_or_init(
    db: &impl ConnectionTrait,
    key: &str,
    make: impl FnOnce() -> String,
) -> Result<String, sea_orm::DbErr> {
    if let Some(v) = get(db, key).await? {
        return Ok(v);
    }
    setting::Entity::insert(setting::ActiveModel {
        key: Set(key.to_owned()),
        value: Set(make()),
    })
    .on_conflict(
        OnConflict::column(setting::Column::Key)
            .do_nothing()
            .to_owned(),
    )
    .do_nothing()
    .exec(db)
    .await?;
    get(db, key)
        .await?
        .ok_or_else(|| sea_orm::DbErr::RecordNotFound(key.to_owned()))
}
