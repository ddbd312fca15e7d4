//! The few subscriber queries the write API needs: list, add (already
//! confirmed, as an import is), remove.
use std::collections::HashMap;

use base64::{engine::general_purpose::STANDARD, Engine};
use rand::RngCore;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, Set, TransactionTrait,
};

use super::{now, StoreError};
use crate::domain::EmailAddress;
use crate::entity::{component, subscriber, subscriber_component};
use crate::secrets;

pub const KIND_EMAIL: &str = "email";
pub const KIND_WEBHOOK: &str = "webhook";

pub enum Target {
    Email(EmailAddress),
    /// An http(s) URL, checked by the caller.
    Webhook(url::Url),
}

pub struct SubscriberView {
    pub model: subscriber::Model,
    /// The components it follows; empty means all of them.
    pub components: Vec<i32>,
}

/// A signing secret for webhooks, in the Standard Webhooks format.
pub fn webhook_secret() -> String {
    let mut bytes = [0u8; 24];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("whsec_{}", STANDARD.encode(bytes))
}

pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<SubscriberView>, sea_orm::DbErr> {
    let subs = subscriber::Entity::find()
        .order_by_asc(subscriber::Column::Id)
        .all(db)
        .await?;
    let mut follows: HashMap<i32, Vec<i32>> = HashMap::new();
    for sc in subscriber_component::Entity::find().all(db).await? {
        follows
            .entry(sc.subscriber_id)
            .or_default()
            .push(sc.component_id);
    }
    Ok(subs
        .into_iter()
        .map(|s| {
            let mut components = follows.remove(&s.id).unwrap_or_default();
            components.sort_unstable();
            SubscriberView {
                model: s,
                components,
            }
        })
        .collect())
}

pub async fn find(
    db: &impl ConnectionTrait,
    id: i32,
) -> Result<Option<SubscriberView>, sea_orm::DbErr> {
    Ok(list(db).await?.into_iter().find(|s| s.model.id == id))
}

/// Adds a confirmed subscriber following `components` (all when empty).
pub async fn add(
    db: &DatabaseConnection,
    target: Target,
    components: &[i32],
) -> Result<SubscriberView, StoreError> {
    let txn = db.begin().await?;
    let (kind, email, url, secret) = match &target {
        Target::Email(e) => (KIND_EMAIL, e.as_str().to_owned(), None, None),
        Target::Webhook(u) => (
            KIND_WEBHOOK,
            String::new(),
            Some(u.to_string()),
            Some(webhook_secret()),
        ),
    };
    let mut dup = subscriber::Entity::find().filter(subscriber::Column::Kind.eq(kind));
    dup = match &url {
        Some(u) => dup.filter(subscriber::Column::WebhookUrl.eq(u.as_str())),
        None => dup.filter(subscriber::Column::Email.eq(email.as_str())),
    };
    if dup.one(&txn).await?.is_some() {
        return Err(StoreError::Conflict {
            field: if url.is_some() {
                "webhook_url"
            } else {
                "email"
            },
            message: "This subscriber already exists.".into(),
        });
    }
    for id in components {
        if component::Entity::find_by_id(*id)
            .one(&txn)
            .await?
            .is_none()
        {
            return Err(StoreError::Conflict {
                field: "components",
                message: format!("Component {id} does not exist."),
            });
        }
    }
    let at = now();
    let m = subscriber::ActiveModel {
        kind: Set(kind.to_owned()),
        email: Set(email),
        webhook_url: Set(url),
        secret: Set(secret),
        unsubscribe_token: Set(secrets::random_token()),
        confirm_token_hash: Set(None),
        confirm_expires_at: Set(None),
        confirmed_at: Set(Some(at)),
        disabled_at: Set(None),
        disabled_reason: Set(None),
        failing_since: Set(None),
        created_at: Set(at),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let mut ids: Vec<i32> = components.to_vec();
    ids.sort_unstable();
    ids.dedup();
    for id in &ids {
        subscriber_component::ActiveModel {
            subscriber_id: Set(m.id),
            component_id: Set(*id),
        }
        .insert(&txn)
        .await?;
    }
    txn.commit().await?;
    Ok(SubscriberView {
        model: m,
        components: ids,
    })
}

pub async fn remove(db: &DatabaseConnection, id: i32) -> Result<(), StoreError> {
    let txn = db.begin().await?;
    subscriber_component::Entity::delete_many()
        .filter(subscriber_component::Column::SubscriberId.eq(id))
        .exec(&txn)
        .await?;
    let res = subscriber::Entity::delete_by_id(id).exec(&txn).await?;
    if res.rows_affected == 0 {
        return Err(StoreError::NotFound);
    }
    txn.commit().await?;
    Ok(())
}
