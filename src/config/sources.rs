//! Reads [`Raw`] from the settings file and the environment in one pass of serde: each key
//! the environment sets is read from its variable's text, every other from the file.
use std::path::Path;

use serde::de::{self, DeserializeSeed, IntoDeserializer, MapAccess, Visitor};
use serde::Deserialize;

use super::raw::{self, Raw};
use super::ConfigError;

/// `file` is the parsed settings file (empty when there is none) and `path` its name for
/// messages. An empty variable counts as unset; the first of a name counts.
pub(super) fn read(
    path: &Path,
    file: toml::Table,
    env: &[(String, String)],
) -> Result<Raw, ConfigError> {
    let from_env: Vec<(&str, String, String)> = raw::keys()
        .iter()
        .filter_map(|&key| {
            let name = raw::env_name(key);
            let text = env.iter().find(|(n, _)| *n == name).map(|(_, v)| v)?;
            (!text.is_empty()).then(|| (key, name, text.clone()))
        })
        .collect();
    let mut given: Vec<(String, Given)> = file
        .into_iter()
        .filter(|(key, _)| !from_env.iter().any(|(k, ..)| k == key))
        .map(|(key, value)| (key, Given::File(value)))
        .collect();
    given.extend(
        from_env
            .into_iter()
            .map(|(key, name, text)| (key.to_owned(), Given::Env { name, text })),
    );
    let layers = Layers {
        path,
        given: given.into_iter(),
        value: None,
    };
    Raw::deserialize(de::value::MapAccessDeserializer::new(layers))
        .map_err(|e| ConfigError(e.to_string()))
}

/// A key's value: typed already by TOML, or a variable's text to read as the setting's type.
enum Given {
    File(toml::Value),
    Env { name: String, text: String },
}

struct Layers<'a> {
    path: &'a Path,
    given: std::vec::IntoIter<(String, Given)>,
    value: Option<Given>,
}

impl<'de> MapAccess<'de> for Layers<'_> {
    type Error = de::value::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Self::Error> {
        let Some((key, value)) = self.given.next() else {
            return Ok(None);
        };
        self.value = Some(value);
        // Every key the environment gives is a setting, so a key refused comes from the file.
        seed.deserialize(key.into_deserializer())
            .map(Some)
            .map_err(|e: Self::Error| {
                de::Error::custom(format_args!("{}: {e}", self.path.display()))
            })
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, Self::Error> {
        match self
            .value
            .take()
            .expect("serde asks for a key before its value")
        {
            Given::File(value) => seed.deserialize(value).map_err(|e| {
                de::Error::custom(format_args!("{}: {}", self.path.display(), e.message()))
            }),
            Given::Env { name, text } => seed
                .deserialize(EnvText(&text))
                .map_err(|e| de::Error::custom(format_args!("{name}={text} {e}"))),
        }
    }
}

/// A variable's text, read as whatever type its setting has. Errors are the end of a
/// sentence that starts "NAME=text".
struct EnvText<'a>(&'a str);

macro_rules! parse_number {
    ($($method:ident => $visit:ident $ty:ty, $why:literal;)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
            let n: $ty = self.0.parse().map_err(|_| de::Error::custom($why))?;
            visitor.$visit(n)
        }
    )*};
}

impl<'de> de::Deserializer<'de> for EnvText<'_> {
    type Error = de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_str(self.0)
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0.to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => visitor.visit_bool(true),
            "0" | "false" | "no" | "off" => visitor.visit_bool(false),
            _ => Err(de::Error::custom("is not true or false")),
        }
    }

    parse_number! {
        deserialize_i8 => visit_i8 i8, "is not a number";
        deserialize_i16 => visit_i16 i16, "is not a number";
        deserialize_i32 => visit_i32 i32, "is not a number";
        deserialize_i64 => visit_i64 i64, "is not a number";
        deserialize_u8 => visit_u8 u8, "is not a positive number";
        deserialize_u16 => visit_u16 u16, "is not a positive number";
        deserialize_u32 => visit_u32 u32, "is not a positive number";
        deserialize_u64 => visit_u64 u64, "is not a positive number";
        deserialize_f32 => visit_f32 f32, "is not a number";
        deserialize_f64 => visit_f64 f64, "is not a number";
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_newtype_struct(self)
    }

    serde::forward_to_deserialize_any! {
        i128 u128 char str string bytes byte_buf unit unit_struct seq tuple tuple_struct map
        struct enum identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn var(name: &str, text: &str) -> Vec<(String, String)> {
        vec![(name.to_owned(), text.to_owned())]
    }

    /// A file giving `key` a value no setting accepts.
    fn bad_file(key: &str) -> toml::Table {
        let mut table = toml::Table::new();
        table.insert(key.to_owned(), toml::Value::Array(Vec::new()));
        table
    }

    #[test]
    fn every_setting_is_read_from_its_variable() {
        let path = Path::new("statuspost.toml");
        for key in raw::keys() {
            let name = raw::env_name(key);
            // The variable hides the file's bad value: accepted, or refused as the variable.
            if let Err(e) = read(path, bad_file(key), &var(&name, "7")) {
                assert!(e.to_string().starts_with(&format!("{name}=7 ")), "{e}");
            }
            // Empty, the variable is unset and the file's value counts.
            let e = read(path, bad_file(key), &var(&name, "")).err().unwrap();
            assert!(e.to_string().starts_with("statuspost.toml: "), "{e}");
        }
    }

    #[test]
    fn variables_are_read_as_their_settings_type() {
        let path = Path::new("statuspost.toml");
        let raw = read(
            path,
            toml::Table::new(),
            &[
                ("STATUSPOST_RUN_WORKER".into(), "Off".into()),
                ("STATUSPOST_WEBHOOK_ALLOW_PRIVATE".into(), "yes".into()),
                ("STATUSPOST_WORKER_CONCURRENCY".into(), "8".into()),
                ("STATUSPOST_SESSION_HOURS".into(), "-1".into()),
                ("STATUSPOST_MAIL_DIR".into(), "/var/mail".into()),
            ],
        )
        .unwrap();
        assert!(!raw.run_worker);
        assert!(raw.webhook_allow_private);
        assert_eq!(raw.worker_concurrency, 8);
        assert_eq!(raw.session_hours, -1);
        assert_eq!(raw.mail_dir, Path::new("/var/mail"));
        let e = read(
            path,
            toml::Table::new(),
            &var("STATUSPOST_RUN_WORKER", "maybe"),
        );
        assert_eq!(
            e.err().unwrap().to_string(),
            "STATUSPOST_RUN_WORKER=maybe is not true or false"
        );
    }
}
