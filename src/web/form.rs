//! Submitted form fields, kept in order, so a failed submit can show them again,
//! and the extractor every form handler takes them from.
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;

use actix_web::{dev::Payload, web, FromRequest, HttpRequest};
use serde::Serialize;

use super::{csrf, AppError};

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
    pub fn parse(body: &[u8]) -> Result<Self, AppError> {
        let pairs = serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
            .map_err(|_| AppError::BadRequest("The form could not be read.".into()))?;
        if pairs
            .iter()
            .any(|(k, v)| k.contains('\0') || v.contains('\0'))
        {
            return Err(AppError::BadRequest(
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

/// A submitted form, as a handler receives it: `who` (a session extractor such
/// as [`super::auth::Staff`], or `()` on forms anyone may send) is settled first,
/// and only then is the body read, within the `PayloadConfig` limit, and parsed;
/// a request refused for who it is never has its body read or parsed. The CSRF
/// check is already made, so the fields come only through its verdict.
pub struct CheckedForm<W = ()> {
    pub who: W,
    pub fields: Result<FormData, Stale>,
}

/// A form whose CSRF check failed (an expired page, or a forgery): the text as
/// typed, so the page can offer it again. As an error, the plain 403.
#[derive(Debug)]
pub struct Stale(pub FormData);

impl From<Stale> for AppError {
    fn from(_: Stale) -> Self {
        AppError::Forbidden(csrf::STALE_MESSAGE.into())
    }
}

impl<W> FromRequest for CheckedForm<W>
where
    W: FromRequest + 'static,
    W::Error: Into<actix_web::Error>,
{
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, actix_web::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        // `who` is a session or nothing: the body is not its to read.
        let who = W::from_request(req, &mut Payload::None);
        let body = web::Bytes::from_request(req, payload);
        let req = req.clone();
        Box::pin(async move {
            let who = who.await.map_err(Into::into)?;
            let form = FormData::parse(&body.await?)?;
            let fields = if csrf::is_valid(&req, form.get(csrf::FIELD)) {
                Ok(form)
            } else {
                Err(Stale(form))
            };
            Ok(Self { who, fields })
        })
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
