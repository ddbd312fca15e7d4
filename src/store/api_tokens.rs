//! Bearer tokens of the write API. A token is shown once; only its SHA-256 is kept.
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    Set,
};

use super::now;
use crate::domain::{TokenName, TokenScope};
use crate::entity::{api_token, staff};
use crate::secrets;

/// A token as read back: its row, and what it may do.
#[derive(Debug, Clone)]
pub struct TokenView {
    pub model: api_token::Model,
    pub scope: TokenScope,
}

fn view(model: api_token::Model) -> Result<TokenView, DbErr> {
    Ok(TokenView {
        scope: super::read(
            TokenScope::parse(&model.scope),
            format_args!("the scope of API token {}", model.id),
        )?,
        model,
    })
}

/// Every token starts with this, so a leaked one is easy to recognise in logs and scanners.
pub const PREFIX: &str = "sp_";

/// Makes a token; returns its row and the token itself, which is never stored.
pub async fn create(
    db: &impl ConnectionTrait,
    name: &TokenName,
    scope: TokenScope,
    created_by: i32,
) -> Result<(api_token::Model, String), DbErr> {
    let token = format!("{PREFIX}{}", secrets::random_token());
    let m = api_token::ActiveModel {
        name: Set(name.as_str().to_owned()),
        scope: Set(scope.as_str().to_owned()),
        token_hash: Set(secrets::sha256_hex(&token)),
        created_by: Set(created_by),
        created_at: Set(now()),
        last_used_at: Set(None),
        revoked_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok((m, token))
}

/// The live token `token` names, noting when it was used. Use is recorded at
/// most once a minute so that a busy client does not turn every read into a write.
/// A live token whose scope cannot be read is an error, not a read token.
pub async fn authenticate(
    db: &impl ConnectionTrait,
    token: &str,
) -> Result<Option<TokenView>, DbErr> {
    if !token.starts_with(PREFIX) || token.len() > 200 {
        return Ok(None);
    }
    let Some((m, owner)) = api_token::Entity::find()
        .filter(api_token::Column::TokenHash.eq(secrets::sha256_hex(token)))
        .filter(api_token::Column::RevokedAt.is_null())
        .find_also_related(staff::Entity)
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let found = view(m)?;
    if !owner.as_ref().is_some_and(owner_may_use) {
        return Ok(None);
    }
    let at = now();
    if found
        .model
        .last_used_at
        .is_none_or(|t| at - t > chrono::Duration::minutes(1))
    {
        let mut a: api_token::ActiveModel = found.model.into();
        a.last_used_at = Set(Some(at));
        return Ok(Some(TokenView {
            model: a.update(db).await?,
            scope: found.scope,
        }));
    }
    Ok(Some(found))
}

/// A token acts with its owner's rights as they are now, not as they were when
/// it was made: only admins make tokens, so only an active admin's tokens work.
pub fn owner_may_use(owner: &staff::Model) -> bool {
    owner.active && owner.is_admin
}

/// Every token, live ones first, newest first.
pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<TokenView>, DbErr> {
    let mut all = api_token::Entity::find()
        .order_by_desc(api_token::Column::CreatedAt)
        .order_by_desc(api_token::Column::Id)
        .all(db)
        .await?;
    all.sort_by_key(|t| t.revoked_at.is_some());
    all.into_iter().map(view).collect()
}

/// Revokes a token; false when there is no such live token.
pub async fn revoke(db: &impl ConnectionTrait, id: i32) -> Result<bool, DbErr> {
    let res = api_token::Entity::update_many()
        .col_expr(
            api_token::Column::RevokedAt,
            sea_orm::sea_query::Expr::value(now()),
        )
        .filter(api_token::Column::Id.eq(id))
        .filter(api_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(res.rows_affected > 0)
}
