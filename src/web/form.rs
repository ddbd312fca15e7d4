//! Submitted form fields, kept in order, so a failed submit can show them again.
use std::collections::HashMap;

use serde::Serialize;

#[derive(Debug, Default, Clone, Serialize)]
pub struct FormData {
    /// The first value of each field, for refilling the form.
    pub values: HashMap<String, String>,
    #[serde(skip)]
    pub pairs: Vec<(String, String)>,
}

impl FormData {
    /// Reads an `application/x-www-form-urlencoded` body. A NUL character is
    /// refused wherever it is: no field of ours means one, PostgreSQL cannot
    /// store one, and browsers never send one for typed text.
    pub fn parse(body: &[u8]) -> Result<Self, super::AppError> {
        let pairs = serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
            .map_err(|_| super::AppError::BadRequest("The form could not be read.".into()))?;
        if pairs
            .iter()
            .any(|(k, v)| k.contains('\0') || v.contains('\0'))
        {
            return Err(super::AppError::BadRequest(
                "The form contains a NUL character, which no field accepts. Nothing was saved."
                    .into(),
            ));
        }
        Ok(Self::new(pairs))
    }

    pub fn new(pairs: Vec<(String, String)>) -> Self {
        let mut values = HashMap::new();
        for (k, v) in &pairs {
            values.entry(k.clone()).or_insert_with(|| v.clone());
        }
        Self { values, pairs }
    }

    pub fn get(&self, name: &str) -> &str {
        self.values.get(name).map(String::as_str).unwrap_or("")
    }

    pub fn has(&self, name: &str) -> bool {
        self.values.contains_key(name)
    }

    /// Drops secrets so they are never sent back in a re-rendered form.
    pub fn without(mut self, names: &[&str]) -> Self {
        for n in names {
            self.values.remove(*n);
        }
        self
    }
}

/// Field name -> message, shown beside each field.
#[derive(Debug, Default, Clone, Serialize)]
pub struct FieldErrors(pub HashMap<String, String>);

impl FieldErrors {
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0
            .entry(field.to_owned())
            .or_insert_with(|| message.into());
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Records the error of `result` under `field`, returning the value if any.
    pub fn check<T>(
        &mut self,
        field: &str,
        result: Result<T, crate::domain::ParseError>,
    ) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                self.add(field, e.0);
                None
            }
        }
    }
}
