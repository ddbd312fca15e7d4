//! The static copy in an S3-compatible bucket, through `object_store`. An
//! object is replaced whole by each PUT, so readers never see half of one.
//! The manifest holds each file's SHA-256: what is already there is not
//! sent again, and what the site no longer has is deleted.
use std::collections::BTreeMap;
use std::sync::Arc;

use anyhow::Context;
use futures_util::StreamExt;
use object_store::{
    aws::AmazonS3Builder, path::Path as ObjectPath, Attribute, Attributes, ObjectStore, PutOptions,
    PutPayload,
};
use secrecy::ExposeSecret;

use super::static_site::{content_type, sha256, Site, Written, MANIFEST};
use crate::config::{S3Access, StaticBucket};

/// A bucket and prefix to keep the copy in.
#[derive(Clone)]
pub struct Bucket {
    store: Arc<dyn ObjectStore>,
    at: StaticBucket,
}

impl std::fmt::Display for Bucket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "s3://{}/{}", self.at.bucket, self.at.prefix)
    }
}

impl Bucket {
    pub fn new(at: &StaticBucket, access: &S3Access) -> anyhow::Result<Self> {
        let mut builder = AmazonS3Builder::from_env()
            .with_bucket_name(&at.bucket)
            .with_region(&access.region);
        if let Some(endpoint) = &access.endpoint {
            builder = builder
                .with_endpoint(endpoint)
                .with_allow_http(endpoint.starts_with("http://"));
        }
        if let Some(id) = &access.access_key_id {
            builder = builder.with_access_key_id(id);
        }
        if let Some(secret) = &access.secret_access_key {
            builder = builder.with_secret_access_key(secret.expose_secret());
        }
        let store = builder
            .build()
            .with_context(|| format!("cannot reach the bucket {}", at.bucket))?;
        Ok(Self {
            store: Arc::new(store),
            at: at.clone(),
        })
    }

    fn path(&self, rel: &str) -> ObjectPath {
        if self.at.prefix.is_empty() {
            ObjectPath::from(rel)
        } else {
            ObjectPath::from(format!("{}/{rel}", self.at.prefix))
        }
    }

    /// What the last export listed, path to SHA-256; `None` without a manifest.
    async fn manifest(&self) -> anyhow::Result<Option<BTreeMap<String, String>>> {
        match self.store.get(&self.path(MANIFEST)).await {
            Ok(got) => {
                let bytes = got.bytes().await?;
                let text = String::from_utf8_lossy(&bytes);
                Ok(Some(
                    text.lines()
                        .filter_map(|l| l.split_once("  "))
                        .map(|(hash, path)| (path.to_owned(), hash.to_owned()))
                        .collect(),
                ))
            }
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e).with_context(|| format!("cannot read {}", self.path(MANIFEST))),
        }
    }

    async fn put(&self, rel: &str, body: Vec<u8>) -> anyhow::Result<()> {
        let options = PutOptions {
            attributes: Attributes::from_iter([(
                Attribute::ContentType,
                object_store::AttributeValue::from(content_type(rel)),
            )]),
            ..PutOptions::default()
        };
        self.store
            .put_opts(&self.path(rel), PutPayload::from(body), options)
            .await
            .with_context(|| format!("cannot write {}", self.path(rel)))?;
        Ok(())
    }

    /// Writes `site` under the prefix, as `static_site::write_dir` does a folder.
    pub async fn write(&self, site: &Site) -> anyhow::Result<Written> {
        let before = match self.manifest().await? {
            Some(m) => m,
            None => {
                let prefix = (!self.at.prefix.is_empty()).then(|| self.path(""));
                let prefix = prefix.map(|p| ObjectPath::from(p.as_ref().trim_end_matches('/')));
                if let Some(found) = self.store.list(prefix.as_ref()).next().await {
                    let found = found.with_context(|| format!("cannot list {self}"))?;
                    anyhow::bail!(
                        "{self} holds objects that no export wrote ({} for one; there is no {MANIFEST}); export under a new or empty prefix",
                        found.location
                    );
                }
                BTreeMap::new()
            }
        };
        let mut written = Written {
            changes_at: site.changes_at,
            ..Written::default()
        };
        let mut now = BTreeMap::new();
        for file in &site.files {
            let hash = sha256(&file.body);
            if before.get(&file.path) == Some(&hash) {
                written.unchanged += 1;
            } else {
                self.put(&file.path, file.body.clone()).await?;
                written.changed += 1;
            }
            now.insert(file.path.clone(), hash);
        }
        let listed: String = now.iter().map(|(p, h)| format!("{h}  {p}\n")).collect();
        self.put(MANIFEST, listed.into_bytes()).await?;
        for gone in before.keys().filter(|p| !now.contains_key(*p)) {
            match self.store.delete(&self.path(gone)).await {
                Ok(()) => written.removed += 1,
                Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(e).with_context(|| format!("cannot remove {gone}")),
            }
        }
        Ok(written)
    }
}
