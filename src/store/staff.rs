//! Staff accounts, their sessions, and one-time sign-up links.
use argon2::{
    password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
    Argon2,
};
use chrono::Duration;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, Set,
};

use super::{now, StoreError};
use crate::domain::{DisplayName, EmailAddress, Password};
use crate::entity::{session, signup_token, staff};
use crate::secrets;

pub struct NewStaff {
    pub email: EmailAddress,
    pub name: DisplayName,
    pub password: Password,
    pub is_admin: bool,
}

/// argon2id with the crate's defaults (OWASP's 19 MiB, 2 passes). Runs on a
/// blocking thread: it is meant to be slow.
pub async fn hash_password(password: &Password) -> String {
    let password = password.expose().to_owned();
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .expect("argon2 with default parameters cannot fail")
            .to_string()
    })
    .await
    .expect("hashing task panicked")
}

async fn verify_password(hash: String, candidate: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|h| {
                Argon2::default()
                    .verify_password(candidate.as_bytes(), &h)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

/// A hash of a password no one has, so that an unknown email costs as much as a wrong password.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2rHRJ4kcfd0Zi9aDePzE/1S0jIX2zaj1/vxZm6d1c5Q";

/// The password hash of an account no password opens (the demo post's author).
pub const NO_PASSWORD: &str = "!";

/// Accounts someone could sign in to: while there is none, `serve` offers the
/// first-admin link, also after `statuspost demo` added its author.
pub async fn count(db: &DatabaseConnection) -> Result<u64, sea_orm::DbErr> {
    staff::Entity::find()
        .filter(staff::Column::PasswordHash.ne(NO_PASSWORD))
        .count(db)
        .await
}

pub async fn create(db: &impl ConnectionTrait, new: NewStaff) -> Result<staff::Model, StoreError> {
    if find_by_email(db, new.email.as_str()).await?.is_some() {
        return Err(StoreError::Conflict {
            field: "email",
            message: "A staff account with this email already exists.".into(),
        });
    }
    let hash = hash_password(&new.password).await;
    Ok(staff::ActiveModel {
        email: Set(new.email.as_str().to_owned()),
        name: Set(new.name.as_str().to_owned()),
        password_hash: Set(hash),
        is_admin: Set(new.is_admin),
        active: Set(true),
        created_at: Set(now()),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

pub async fn find_by_email(
    db: &impl ConnectionTrait,
    email: &str,
) -> Result<Option<staff::Model>, sea_orm::DbErr> {
    let email = email.trim();
    // Emails are stored with a lower-cased domain; compare case-insensitively in Rust
    // so the same query works on SQLite and PostgreSQL.
    let candidates = staff::Entity::find().all(db).await?;
    Ok(candidates
        .into_iter()
        .find(|s| s.email.eq_ignore_ascii_case(email)))
}

pub async fn find(
    db: &impl ConnectionTrait,
    id: i32,
) -> Result<Option<staff::Model>, sea_orm::DbErr> {
    staff::Entity::find_by_id(id).one(db).await
}

/// Who hears that incident work of `author_id`'s is owed: the author while
/// active, else every active admin, so a reminder never goes nowhere.
pub async fn reminded_for(
    db: &DatabaseConnection,
    author_id: i32,
) -> Result<Vec<String>, sea_orm::DbErr> {
    if let Some(s) = staff::Entity::find_by_id(author_id).one(db).await? {
        if s.active {
            return Ok(vec![s.email]);
        }
    }
    Ok(staff::Entity::find()
        .filter(staff::Column::Active.eq(true))
        .filter(staff::Column::IsAdmin.eq(true))
        .all(db)
        .await?
        .into_iter()
        .map(|s| s.email)
        .collect())
}

pub async fn list(db: &DatabaseConnection) -> Result<Vec<staff::Model>, sea_orm::DbErr> {
    staff::Entity::find()
        .order_by_asc(staff::Column::Id)
        .all(db)
        .await
}

/// The account for these credentials, if they are right and the account is active.
pub async fn authenticate(
    db: &DatabaseConnection,
    email: &str,
    password: &str,
) -> Result<Option<staff::Model>, sea_orm::DbErr> {
    let found = find_by_email(db, email).await?;
    let hash = found
        .as_ref()
        .map(|s| s.password_hash.clone())
        .unwrap_or_else(|| DUMMY_HASH.to_owned());
    let ok = verify_password(hash, password.to_owned()).await;
    Ok(found.filter(|s| ok && s.active))
}

pub async fn set_password(
    db: &DatabaseConnection,
    id: i32,
    password: &Password,
) -> Result<(), StoreError> {
    let hash = hash_password(password).await;
    let mut m: staff::ActiveModel = find(db, id).await?.ok_or(StoreError::NotFound)?.into();
    m.password_hash = Set(hash);
    m.update(db).await?;
    // A new password ends every session that the old one opened.
    session::Entity::delete_many()
        .filter(session::Column::StaffId.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn set_flags(
    db: &DatabaseConnection,
    id: i32,
    is_admin: bool,
    active: bool,
) -> Result<(), StoreError> {
    let txn = super::begin_write(db).await?;
    let current = find(&txn, id).await?.ok_or(StoreError::NotFound)?;
    if current.is_admin && current.active && !(is_admin && active) {
        let admins = staff::Entity::find()
            .filter(staff::Column::IsAdmin.eq(true))
            .filter(staff::Column::Active.eq(true))
            .count(&txn)
            .await?;
        if admins <= 1 {
            return Err(StoreError::Conflict {
                field: "is_admin",
                message: "This is the last active admin; make another admin first.".into(),
            });
        }
    }
    let mut m: staff::ActiveModel = current.into();
    m.is_admin = Set(is_admin);
    m.active = Set(active);
    m.update(&txn).await?;
    if !active {
        session::Entity::delete_many()
            .filter(session::Column::StaffId.eq(id))
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(())
}

/// Opens a session and returns the token for the cookie; only its hash is stored.
pub async fn open_session(
    db: &DatabaseConnection,
    staff_id: i32,
    hours: i64,
) -> Result<String, sea_orm::DbErr> {
    let token = secrets::random_token();
    let at = now();
    session::ActiveModel {
        token_hash: Set(secrets::sha256_hex(&token)),
        staff_id: Set(staff_id),
        created_at: Set(at),
        expires_at: Set(at + Duration::hours(hours)),
    }
    .insert(db)
    .await?;
    Ok(token)
}

pub async fn session_staff(
    db: &DatabaseConnection,
    token: &str,
) -> Result<Option<staff::Model>, sea_orm::DbErr> {
    let Some((s, Some(member))) = session::Entity::find_by_id(secrets::sha256_hex(token))
        .find_also_related(staff::Entity)
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    if s.expires_at < now() || !member.active {
        return Ok(None);
    }
    Ok(Some(member))
}

pub async fn close_session(db: &DatabaseConnection, token: &str) -> Result<(), sea_orm::DbErr> {
    session::Entity::delete_by_id(secrets::sha256_hex(token))
        .exec(db)
        .await?;
    Ok(())
}

/// A single-use link to create an account; replaces any unused ones.
pub async fn new_signup_token(
    db: &DatabaseConnection,
    is_admin: bool,
    valid_for: Duration,
) -> Result<String, sea_orm::DbErr> {
    let token = secrets::random_token();
    signup_token::Entity::delete_many()
        .filter(signup_token::Column::UsedAt.is_null())
        .exec(db)
        .await?;
    signup_token::ActiveModel {
        token_hash: Set(secrets::sha256_hex(&token)),
        is_admin: Set(is_admin),
        expires_at: Set(now() + valid_for),
        used_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok(token)
}

/// The unused, unexpired sign-up token `token` names. A token that makes an
/// admin is the first-start setup link: it retires as soon as any admin
/// exists, however that admin was made (the link, `user add --admin`, ...).
async fn live_signup_token(
    db: &impl ConnectionTrait,
    token: &str,
) -> Result<Option<signup_token::Model>, sea_orm::DbErr> {
    let Some(t) = signup_token::Entity::find_by_id(secrets::sha256_hex(token))
        .one(db)
        .await?
        .filter(|t| t.used_at.is_none() && t.expires_at > now())
    else {
        return Ok(None);
    };
    if t.is_admin {
        let admins = staff::Entity::find()
            .filter(staff::Column::IsAdmin.eq(true))
            .count(db)
            .await?;
        if admins > 0 {
            return Ok(None);
        }
    }
    Ok(Some(t))
}

pub async fn signup_token_valid(
    db: &DatabaseConnection,
    token: &str,
) -> Result<bool, sea_orm::DbErr> {
    Ok(live_signup_token(db, token).await?.is_some())
}

/// Spends the token and creates the account in one transaction.
pub async fn sign_up(
    db: &DatabaseConnection,
    token: &str,
    new: NewStaff,
) -> Result<staff::Model, StoreError> {
    let txn = super::begin_write(db).await?;
    let t = live_signup_token(&txn, token)
        .await?
        .ok_or(StoreError::NotFound)?;
    let new = NewStaff {
        is_admin: t.is_admin,
        ..new
    };
    let mut spent: signup_token::ActiveModel = t.into();
    spent.used_at = Set(Some(now()));
    spent.update(&txn).await?;
    let created = create(&txn, new).await?;
    txn.commit().await?;
    Ok(created)
}
