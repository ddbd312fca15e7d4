//! One column's value between the database and the file: JSON that keeps
//! its kind (numbers, strings, booleans, null; instants as RFC 3339 in UTC,
//! days as `YYYY-MM-DD`, bytes as base64), so it reads back the same into
//! either backend.
use base64::Engine;
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use sea_orm::{DbErr, QueryResult, Value};
use serde_json::Value as Json;

use super::schema::Kind;

/// Column `i` of `row`, of kind `kind`, as JSON.
pub fn read(row: &QueryResult, i: usize, kind: Kind) -> Result<Json, DbErr> {
    Ok(match kind {
        Kind::Int => row
            .try_get_by_index::<Option<i64>>(i)?
            .map_or(Json::Null, Json::from),
        Kind::Float => row
            .try_get_by_index::<Option<f64>>(i)?
            .map_or(Json::Null, Json::from),
        Kind::Bool => row
            .try_get_by_index::<Option<bool>>(i)?
            .map_or(Json::Null, Json::from),
        Kind::Text => row
            .try_get_by_index::<Option<String>>(i)?
            .map_or(Json::Null, Json::from),
        Kind::Timestamp => row
            .try_get_by_index::<Option<DateTime<Utc>>>(i)?
            .map_or(Json::Null, |t| {
                Json::from(t.to_rfc3339_opts(SecondsFormat::AutoSi, true))
            }),
        Kind::Date => row
            .try_get_by_index::<Option<NaiveDate>>(i)?
            .map_or(Json::Null, |d| Json::from(d.format("%Y-%m-%d").to_string())),
        Kind::Blob => row
            .try_get_by_index::<Option<Vec<u8>>>(i)?
            .map_or(Json::Null, |b| {
                Json::from(base64::engine::general_purpose::STANDARD.encode(b))
            }),
    })
}

/// A JSON value from the file as the value to bind for a column of `kind`;
/// `None` when it is not a value of that kind.
pub fn bind(json: &Json, kind: Kind) -> Option<Value> {
    if json.is_null() {
        return Some(match kind {
            Kind::Int => Value::BigInt(None),
            Kind::Float => Value::Double(None),
            Kind::Bool => Value::Bool(None),
            Kind::Text => Value::String(None),
            Kind::Timestamp => Value::ChronoDateTimeUtc(None),
            Kind::Date => Value::ChronoDate(None),
            Kind::Blob => Value::Bytes(None),
        });
    }
    Some(match kind {
        Kind::Int => Value::BigInt(Some(json.as_i64()?)),
        Kind::Float => Value::Double(Some(json.as_f64()?)),
        Kind::Bool => Value::Bool(Some(json.as_bool()?)),
        Kind::Text => Value::String(Some(Box::new(json.as_str()?.to_owned()))),
        Kind::Timestamp => Value::ChronoDateTimeUtc(Some(Box::new(
            DateTime::parse_from_rfc3339(json.as_str()?)
                .ok()?
                .with_timezone(&Utc),
        ))),
        Kind::Date => Value::ChronoDate(Some(Box::new(
            NaiveDate::parse_from_str(json.as_str()?, "%Y-%m-%d").ok()?,
        ))),
        Kind::Blob => Value::Bytes(Some(Box::new(
            base64::engine::general_purpose::STANDARD
                .decode(json.as_str()?)
                .ok()?,
        ))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_reads_back_as_written() {
        for (json, kind) in [
            (Json::from(42), Kind::Int),
            (Json::from(1.5), Kind::Float),
            (Json::from(true), Kind::Bool),
            (Json::from("text"), Kind::Text),
            (Json::from("2026-12-03T10:00:00.123456Z"), Kind::Timestamp),
            (Json::from("2026-12-03"), Kind::Date),
            (Json::from("AAEC"), Kind::Blob),
            (Json::Null, Kind::Timestamp),
        ] {
            assert!(bind(&json, kind).is_some(), "{json} as {kind:?}");
        }
        assert!(bind(&Json::from("soon"), Kind::Timestamp).is_none());
        assert!(bind(&Json::from("1"), Kind::Int).is_none());
    }
}
