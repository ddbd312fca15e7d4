//! Subscribers: email addresses (double opt-in) and webhook endpoints, with the
//! components each chose. The delivery worker reads only confirmed, enabled rows.
use std::collections::HashMap;

use base64::Engine;
use chrono::Duration;
use rand::RngCore;
use sea_orm::{
    sea_query::{Expr, Func, LikeExpr},
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbErr,
    EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set, SqlErr,
};

use super::{now, StoreError};
use crate::domain::{EmailAddress, SubscriberKind, WebhookUrl};
use crate::entity::{component, subscriber, subscriber_component};
use crate::secrets;

/// How long a confirmation link works.
pub fn confirm_ttl() -> Duration {
    Duration::hours(48)
}

/// `whsec_` + base64 of 32 random bytes: the Standard Webhooks secret format.
pub fn new_webhook_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

/// Whether `s` is a secret the Standard Webhooks libraries accept and that is
/// long enough to be safe: `whsec_` + base64 of 24 to 64 bytes.
pub fn is_valid_webhook_secret(s: &str) -> bool {
    s.strip_prefix("whsec_")
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .is_some_and(|bytes| (24..=64).contains(&bytes.len()))
}

/// The path of a subscriber's unsubscribe link, for `settings.link(..)`.
pub fn unsubscribe_path(token: &str) -> String {
    format!("unsubscribe/{token}")
}

/// The path of the page where a subscriber picks components or unsubscribes.
/// The same secret as the unsubscribe link: whoever may stop the
/// notifications may as well narrow them, and one secret is one to keep.
pub fn manage_path(token: &str) -> String {
    format!("subscription/{token}")
}

/// A subscriber with the ids of the components it chose (empty: all of them).
#[derive(Debug, Clone)]
pub struct SubscriberView {
    pub model: subscriber::Model,
    pub kind: SubscriberKind,
    pub components: Vec<i32>,
}

/// The kind of a subscriber's row; one this version cannot read is an error,
/// never taken for an email address.
pub fn kind_of(m: &subscriber::Model) -> Result<SubscriberKind, DbErr> {
    super::read(
        SubscriberKind::parse(&m.kind),
        format_args!("the kind of subscriber {}", m.id),
    )
}

impl SubscriberView {
    pub fn state(&self) -> &'static str {
        state_of(&self.model)
    }
}

/// "unsubscribed" (the subscriber asked to hear nothing more), "disabled",
/// "confirmed" or "pending" (awaiting the address's confirmation).
pub fn state_of(m: &subscriber::Model) -> &'static str {
    if m.unsubscribed_at.is_some() {
        "unsubscribed"
    } else if m.disabled_at.is_some() {
        "disabled"
    } else if m.confirmed_at.is_some() {
        "confirmed"
    } else {
        "pending"
    }
}

/// What a public email sign-up led to. The page shown is the same either way.
pub enum EmailSignup {
    /// A new or still unconfirmed address: mail it this confirmation token.
    Confirm {
        subscriber: Box<subscriber::Model>,
        token: String,
    },
    /// Already subscribed and confirmed: nothing changes and nothing is sent.
    AlreadyConfirmed,
}

/// Whether notifications go to this subscriber now.
pub fn is_active(m: &subscriber::Model) -> bool {
    m.confirmed_at.is_some() && m.disabled_at.is_none() && m.unsubscribed_at.is_none()
}

fn is_unique_violation(e: &DbErr) -> bool {
    matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

fn email_match(email: &str) -> Condition {
    Condition::all()
        .add(subscriber::Column::Kind.eq(SubscriberKind::Email.as_str()))
        .add(Expr::expr(Func::lower(Expr::col(subscriber::Column::Email))).eq(email.to_lowercase()))
}

pub async fn find_email(
    db: &impl ConnectionTrait,
    email: &EmailAddress,
) -> Result<Option<subscriber::Model>, DbErr> {
    subscriber::Entity::find()
        .filter(email_match(email.as_str()))
        .one(db)
        .await
}

pub async fn find_webhook(
    db: &impl ConnectionTrait,
    url: &WebhookUrl,
) -> Result<Option<subscriber::Model>, DbErr> {
    subscriber::Entity::find()
        .filter(subscriber::Column::Kind.eq(SubscriberKind::Webhook.as_str()))
        .filter(subscriber::Column::WebhookUrl.eq(url.as_str()))
        .one(db)
        .await
}

pub async fn find(db: &impl ConnectionTrait, id: i32) -> Result<Option<SubscriberView>, DbErr> {
    let Some(model) = subscriber::Entity::find_by_id(id).one(db).await? else {
        return Ok(None);
    };
    let components = components_of(db, &[id])
        .await?
        .remove(&id)
        .unwrap_or_default();
    Ok(Some(SubscriberView {
        kind: kind_of(&model)?,
        model,
        components,
    }))
}

pub async fn find_by_unsubscribe_token(
    db: &impl ConnectionTrait,
    token: &str,
) -> Result<Option<subscriber::Model>, DbErr> {
    subscriber::Entity::find()
        .filter(subscriber::Column::UnsubscribeToken.eq(token))
        .one(db)
        .await
}

/// The chosen component ids of each of `ids` (absent or empty: every component).
pub async fn components_of(
    db: &impl ConnectionTrait,
    ids: &[i32],
) -> Result<HashMap<i32, Vec<i32>>, DbErr> {
    let mut out: HashMap<i32, Vec<i32>> = HashMap::new();
    // Chunks keep the IN list within every backend's parameter limit.
    for chunk in ids.chunks(500) {
        let rows = subscriber_component::Entity::find()
            .filter(subscriber_component::Column::SubscriberId.is_in(chunk.iter().copied()))
            .order_by_asc(subscriber_component::Column::ComponentId)
            .all(db)
            .await?;
        for r in rows {
            out.entry(r.subscriber_id).or_default().push(r.component_id);
        }
    }
    Ok(out)
}

/// Replaces a subscriber's components with those of `chosen` that exist.
async fn set_components(
    db: &impl ConnectionTrait,
    subscriber_id: i32,
    chosen: &[i32],
) -> Result<(), DbErr> {
    subscriber_component::Entity::delete_many()
        .filter(subscriber_component::Column::SubscriberId.eq(subscriber_id))
        .exec(db)
        .await?;
    if chosen.is_empty() {
        return Ok(());
    }
    let existing: Vec<i32> = component::Entity::find()
        .filter(component::Column::Id.is_in(chosen.iter().copied()))
        .filter(component::Column::DeletedAt.is_null())
        .select_only()
        .column(component::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    if existing.is_empty() {
        return Ok(());
    }
    subscriber_component::Entity::insert_many(existing.into_iter().map(|component_id| {
        subscriber_component::ActiveModel {
            subscriber_id: Set(subscriber_id),
            component_id: Set(component_id),
        }
    }))
    .exec(db)
    .await?;
    Ok(())
}

fn new_row(kind: SubscriberKind, email: &EmailAddress) -> subscriber::ActiveModel {
    subscriber::ActiveModel {
        kind: Set(kind.as_str().to_owned()),
        email: Set(email.as_str().to_owned()),
        webhook_url: Set(None),
        secret: Set(None),
        unsubscribe_token: Set(secrets::random_token()),
        confirm_token_hash: Set(None),
        confirm_expires_at: Set(None),
        confirmed_at: Set(None),
        disabled_at: Set(None),
        disabled_reason: Set(None),
        failing_since: Set(None),
        created_at: Set(now()),
        ..Default::default()
    }
}

/// A public email sign-up: a new address, or an unconfirmed, disabled or
/// unsubscribed one again, gets a fresh confirmation token (the old one stops
/// working) and the components chosen now; one that unsubscribed stays so
/// until it confirms. A confirmed address is left exactly as it was, so a
/// stranger can neither learn of it nor change it.
pub async fn subscribe_email(
    db: &DatabaseConnection,
    email: &EmailAddress,
    components: &[i32],
) -> Result<EmailSignup, StoreError> {
    // A second attempt only runs when another request made the row in between.
    for _ in 0..2 {
        let txn = super::begin_write(db).await?;
        let token = secrets::random_token();
        let expires = now() + confirm_ttl();
        let row = match find_email(&txn, email).await? {
            Some(m) if is_active(&m) => {
                return Ok(EmailSignup::AlreadyConfirmed);
            }
            Some(m) => {
                let mut a: subscriber::ActiveModel = m.into();
                a.confirm_token_hash = Set(Some(secrets::sha256_hex(&token)));
                a.confirm_expires_at = Set(Some(expires));
                a.confirmed_at = Set(None);
                a.disabled_at = Set(None);
                a.disabled_reason = Set(None);
                a.failing_since = Set(None);
                a.update(&txn).await?
            }
            None => {
                let mut a = new_row(SubscriberKind::Email, email);
                a.confirm_token_hash = Set(Some(secrets::sha256_hex(&token)));
                a.confirm_expires_at = Set(Some(expires));
                match a.insert(&txn).await {
                    Ok(m) => m,
                    Err(e) if is_unique_violation(&e) => {
                        txn.rollback().await?;
                        continue;
                    }
                    Err(e) => return Err(e.into()),
                }
            }
        };
        set_components(&txn, row.id, components).await?;
        txn.commit().await?;
        return Ok(EmailSignup::Confirm {
            subscriber: Box::new(row),
            token,
        });
    }
    Err(StoreError::Conflict {
        field: "email",
        message: "Please try again.".into(),
    })
}

/// The subscriber a confirmation token would confirm, without spending it:
/// `None` when the token is unknown, used or expired.
pub async fn find_by_confirm_token(
    db: &impl ConnectionTrait,
    token: &str,
) -> Result<Option<subscriber::Model>, DbErr> {
    subscriber::Entity::find()
        .filter(subscriber::Column::ConfirmTokenHash.eq(secrets::sha256_hex(token)))
        .filter(subscriber::Column::ConfirmExpiresAt.gt(now()))
        .one(db)
        .await
}

/// Spends a confirmation token: the address is confirmed once, and only
/// before the token expires; one that had unsubscribed is subscribed again.
/// `None` when the token is unknown, used or expired.
pub async fn confirm(
    db: &DatabaseConnection,
    token: &str,
) -> Result<Option<subscriber::Model>, DbErr> {
    let hash = secrets::sha256_hex(token);
    let at = now();
    let txn = super::begin_write(db).await?;
    let Some(m) = find_by_confirm_token(&txn, token).await? else {
        return Ok(None);
    };
    // Conditional on the hash still being there: of two clicks racing, one wins.
    let res = subscriber::Entity::update_many()
        .col_expr(subscriber::Column::ConfirmedAt, Expr::value(Some(at)))
        .col_expr(
            subscriber::Column::UnsubscribedAt,
            Expr::value(Option::<chrono::DateTime<chrono::Utc>>::None),
        )
        .col_expr(
            subscriber::Column::ConfirmTokenHash,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            subscriber::Column::ConfirmExpiresAt,
            Expr::value(Option::<chrono::DateTime<chrono::Utc>>::None),
        )
        .filter(subscriber::Column::Id.eq(m.id))
        .filter(subscriber::Column::ConfirmTokenHash.eq(hash.as_str()))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    if res.rows_affected != 1 {
        return Ok(None);
    }
    Ok(Some(subscriber::Model {
        confirmed_at: Some(at),
        unsubscribed_at: None,
        confirm_token_hash: None,
        confirm_expires_at: None,
        ..m
    }))
}

/// A webhook subscription, active at once, with its new secret (shown once).
/// A URL that is already subscribed (or disabled) is refused: its secret is
/// never shown again. One that unsubscribed is subscribed again, with a new
/// secret and the components chosen now.
pub async fn subscribe_webhook(
    db: &DatabaseConnection,
    url: &WebhookUrl,
    contact: &EmailAddress,
    components: &[i32],
) -> Result<(subscriber::Model, String), StoreError> {
    let conflict = || {
        StoreError::Conflict {
        field: "webhook_url",
        message: "This URL is already subscribed. To get a new secret, ask the page's staff to rotate it.".into(),
    }
    };
    let txn = super::begin_write(db).await?;
    let secret = new_webhook_secret();
    let m = match find_webhook(&txn, url).await? {
        Some(m) if m.unsubscribed_at.is_some() => {
            let mut a: subscriber::ActiveModel = m.into();
            a.email = Set(contact.as_str().to_owned());
            a.secret = Set(Some(secret.clone()));
            confirm_now(&mut a);
            a.update(&txn).await?
        }
        Some(_) => return Err(conflict()),
        None => {
            let mut a = new_row(SubscriberKind::Webhook, contact);
            a.webhook_url = Set(Some(url.as_str().to_owned()));
            a.secret = Set(Some(secret.clone()));
            a.confirmed_at = Set(Some(now()));
            match a.insert(&txn).await {
                Ok(m) => m,
                Err(e) if is_unique_violation(&e) => return Err(conflict()),
                Err(e) => return Err(e.into()),
            }
        }
    };
    set_components(&txn, m.id, components).await?;
    txn.commit().await?;
    Ok((m, secret))
}

/// Staff add an email subscriber: confirmed at once, as they vouch for it. An
/// address waiting for confirmation (or disabled, or unsubscribed) is
/// confirmed with these components.
pub async fn add_confirmed_email(
    db: &DatabaseConnection,
    email: &EmailAddress,
    components: &[i32],
) -> Result<subscriber::Model, StoreError> {
    let txn = super::begin_write(db).await?;
    let m = match find_email(&txn, email).await? {
        Some(m) if is_active(&m) => {
            return Err(StoreError::Conflict {
                field: "email",
                message: "This address is already subscribed.".into(),
            });
        }
        Some(m) => {
            let mut a: subscriber::ActiveModel = m.into();
            confirm_now(&mut a);
            a.update(&txn).await?
        }
        None => {
            let mut a = new_row(SubscriberKind::Email, email);
            a.confirmed_at = Set(Some(now()));
            a.insert(&txn).await.map_err(|e| {
                if is_unique_violation(&e) {
                    StoreError::Conflict {
                        field: "email",
                        message: "This address is already subscribed.".into(),
                    }
                } else {
                    e.into()
                }
            })?
        }
    };
    set_components(&txn, m.id, components).await?;
    txn.commit().await?;
    Ok(m)
}

fn confirm_now(a: &mut subscriber::ActiveModel) {
    a.confirmed_at = Set(Some(now()));
    a.unsubscribed_at = Set(None);
    a.confirm_token_hash = Set(None);
    a.confirm_expires_at = Set(None);
    a.disabled_at = Set(None);
    a.disabled_reason = Set(None);
    a.failing_since = Set(None);
}

/// One subscriber moving from another provider.
pub enum ImportRow {
    Email {
        email: EmailAddress,
        components: Vec<i32>,
    },
    Webhook {
        url: WebhookUrl,
        contact: EmailAddress,
        components: Vec<i32>,
        /// Kept so the receiver's verification keeps working; a new one when absent.
        secret: Option<String>,
    },
}

/// The state an imported subscriber is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportAs {
    /// Confirmed at once; one already here that is waiting for confirmation
    /// (or disabled) is confirmed too. For lists known to have opted in.
    Confirmed,
    /// Awaiting confirmation, with no link: nothing is sent to it until the
    /// address subscribes again and confirms.
    Pending,
    /// Listed but sent nothing, as the worker leaves a failing webhook.
    Disabled,
    /// Listed as having asked to hear nothing more: sent nothing until the
    /// address subscribes again and confirms.
    Unsubscribed,
}

impl ImportAs {
    /// The state the export writes (see [`state_of`]).
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "confirmed" => Some(Self::Confirmed),
            "pending" => Some(Self::Pending),
            "disabled" => Some(Self::Disabled),
            "unsubscribed" => Some(Self::Unsubscribed),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Imported {
    Added,
    /// It was there, waiting for confirmation or disabled; now it is confirmed.
    Confirmed,
    /// It was there; left as it was.
    AlreadyPresent,
    /// It unsubscribed here; left so, whatever the row says.
    LeftUnsubscribed,
}

/// Imports one subscriber in the state `as_`. Importing the same one again adds
/// nothing. Only [`ImportAs::Confirmed`] changes a subscriber already here: a
/// row that was pending or disabled where it came from must never make
/// someone deliverable. Nor does any row undo an unsubscribing here: an old
/// list is not consent given after it.
pub async fn import(
    db: &DatabaseConnection,
    row: ImportRow,
    as_: ImportAs,
) -> Result<Imported, StoreError> {
    let txn = super::begin_write(db).await?;
    let (existing, components) = match &row {
        ImportRow::Email { email, components } => (find_email(&txn, email).await?, components),
        ImportRow::Webhook {
            url, components, ..
        } => (find_webhook(&txn, url).await?, components),
    };
    let (id, outcome) = match existing {
        Some(m) if m.unsubscribed_at.is_some() => return Ok(Imported::LeftUnsubscribed),
        Some(m) if is_active(&m) => {
            return Ok(Imported::AlreadyPresent);
        }
        Some(_) if as_ != ImportAs::Confirmed => return Ok(Imported::AlreadyPresent),
        Some(m) => {
            let id = m.id;
            let mut a: subscriber::ActiveModel = m.into();
            confirm_now(&mut a);
            if let ImportRow::Webhook {
                secret: Some(s), ..
            } = &row
            {
                a.secret = Set(Some(s.clone()));
            }
            a.update(&txn).await?;
            (id, Imported::Confirmed)
        }
        None => {
            let mut a = match &row {
                ImportRow::Email { email, .. } => new_row(SubscriberKind::Email, email),
                ImportRow::Webhook {
                    url,
                    contact,
                    secret,
                    ..
                } => {
                    let mut a = new_row(SubscriberKind::Webhook, contact);
                    a.webhook_url = Set(Some(url.as_str().to_owned()));
                    a.secret = Set(Some(secret.clone().unwrap_or_else(new_webhook_secret)));
                    a
                }
            };
            match as_ {
                ImportAs::Confirmed => a.confirmed_at = Set(Some(now())),
                // No confirmation token: a link from the old system cannot
                // work here, and none is mailed unasked.
                ImportAs::Pending => {}
                ImportAs::Disabled => {
                    a.confirmed_at = Set(Some(now()));
                    a.disabled_at = Set(Some(now()));
                    a.disabled_reason = Set(Some("disabled before it was imported".into()));
                }
                ImportAs::Unsubscribed => a.unsubscribed_at = Set(Some(now())),
            }
            match a.insert(&txn).await {
                Ok(m) => (m.id, Imported::Added),
                // The same subscriber twice in one file, or imported meanwhile.
                Err(e) if is_unique_violation(&e) => return Ok(Imported::AlreadyPresent),
                Err(e) => return Err(e.into()),
            }
        }
    };
    set_components(&txn, id, components).await?;
    txn.commit().await?;
    Ok(outcome)
}

/// A new secret for a webhook subscriber, returned once; the old one stops working.
pub async fn rotate_secret(db: &DatabaseConnection, id: i32) -> Result<String, StoreError> {
    let secret = new_webhook_secret();
    let res = subscriber::Entity::update_many()
        .col_expr(
            subscriber::Column::Secret,
            Expr::value(Some(secret.clone())),
        )
        .filter(subscriber::Column::Id.eq(id))
        .filter(subscriber::Column::Kind.eq(SubscriberKind::Webhook.as_str()))
        .exec(db)
        .await?;
    if res.rows_affected == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(secret)
}

/// Marks the subscriber behind an unsubscribe link as unsubscribed: it is
/// sent nothing more, and what was sent to it stays on record (the row is
/// kept, so each incident's delivery counts do not drop). A confirmation link
/// still out stops working. True when this call unsubscribed it; whether it
/// existed is not told: the link may be clicked twice.
pub async fn unsubscribe(db: &DatabaseConnection, token: &str) -> Result<bool, DbErr> {
    let txn = super::begin_write(db).await?;
    let Some(m) = find_by_unsubscribe_token(&txn, token).await? else {
        return Ok(false);
    };
    let changed = subscriber::Entity::update_many()
        .col_expr(subscriber::Column::UnsubscribedAt, Expr::value(Some(now())))
        .col_expr(
            subscriber::Column::ConfirmTokenHash,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            subscriber::Column::ConfirmExpiresAt,
            Expr::value(Option::<chrono::DateTime<chrono::Utc>>::None),
        )
        .filter(subscriber::Column::Id.eq(m.id))
        .filter(subscriber::Column::UnsubscribedAt.is_null())
        .exec(&txn)
        .await?
        .rows_affected
        > 0;
    if changed {
        super::deliveries::cancel_pending(&txn, m.id, "the subscriber unsubscribed").await?;
    }
    txn.commit().await?;
    Ok(changed)
}

/// The subscriber chooses the components it hears of (none: all of them).
/// False when it has unsubscribed meanwhile, or is gone: nothing is changed.
pub async fn change_components(
    db: &DatabaseConnection,
    id: i32,
    chosen: &[i32],
) -> Result<bool, DbErr> {
    let txn = super::begin_write(db).await?;
    match subscriber::Entity::find_by_id(id).one(&txn).await? {
        Some(m) if m.unsubscribed_at.is_none() => {}
        _ => return Ok(false),
    }
    set_components(&txn, id, chosen).await?;
    txn.commit().await?;
    Ok(true)
}

/// Staff remove a subscriber.
pub async fn remove(db: &DatabaseConnection, id: i32) -> Result<(), StoreError> {
    let res = subscriber::Entity::delete_by_id(id).exec(db).await?;
    if res.rows_affected == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

fn search_condition(query: &str) -> Condition {
    let q = query.trim().to_lowercase();
    if q.is_empty() {
        return Condition::all();
    }
    // The text is matched literally: % and _ typed in the box are not wildcards.
    let escaped = q
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    let pattern = || LikeExpr::new(format!("%{escaped}%")).escape('\\');
    Condition::any()
        .add(Expr::expr(Func::lower(Expr::col(subscriber::Column::Email))).like(pattern()))
        .add(Expr::expr(Func::lower(Expr::col(subscriber::Column::WebhookUrl))).like(pattern()))
}

/// Subscribers whose address or URL contains `query` (all when empty), newest
/// first, one page of `per_page`; with the total number that match.
pub async fn search(
    db: &DatabaseConnection,
    query: &str,
    page: u64,
    per_page: u64,
) -> Result<(Vec<SubscriberView>, u64), DbErr> {
    let paginator = subscriber::Entity::find()
        .filter(search_condition(query))
        .order_by_desc(subscriber::Column::CreatedAt)
        .order_by_desc(subscriber::Column::Id)
        .paginate(db, per_page);
    let total = paginator.num_items().await?;
    let models = paginator.fetch_page(page).await?;
    Ok((with_components(db, models).await?, total))
}

/// Every subscriber, oldest first, for the CSV export.
pub async fn all(db: &DatabaseConnection) -> Result<Vec<SubscriberView>, DbErr> {
    let models = subscriber::Entity::find()
        .order_by_asc(subscriber::Column::Id)
        .all(db)
        .await?;
    with_components(db, models).await
}

async fn with_components(
    db: &impl ConnectionTrait,
    models: Vec<subscriber::Model>,
) -> Result<Vec<SubscriberView>, DbErr> {
    let ids: Vec<i32> = models.iter().map(|m| m.id).collect();
    let mut comps = components_of(db, &ids).await?;
    models
        .into_iter()
        .map(|model| {
            Ok(SubscriberView {
                kind: kind_of(&model)?,
                components: comps.remove(&model.id).unwrap_or_default(),
                model,
            })
        })
        .collect()
}

/// How many subscribers would hear of an update now: confirmed, enabled and
/// not unsubscribed.
pub async fn count_active(db: &DatabaseConnection) -> Result<u64, DbErr> {
    subscriber::Entity::find()
        .filter(subscriber::Column::ConfirmedAt.is_not_null())
        .filter(subscriber::Column::DisabledAt.is_null())
        .filter(subscriber::Column::UnsubscribedAt.is_null())
        .count(db)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_secrets_have_the_standard_shape() {
        let s = new_webhook_secret();
        assert!(is_valid_webhook_secret(&s), "{s}");
        assert_ne!(s, new_webhook_secret());
        assert!(standardwebhooks::Webhook::new(&s).is_ok());
        assert!(is_valid_webhook_secret(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
        ));
        for bad in [
            "",
            "whsec_",
            "whsec_c2hvcnQ=",
            "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "whsec_!!!",
        ] {
            assert!(!is_valid_webhook_secret(bad), "{bad}");
        }
    }
}
