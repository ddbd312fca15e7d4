//! Rendered public pages, kept until the next write that could change them.
//!
//! Keys carry the generation they were rendered in: a write moves the
//! generation on, so a page rendered before it (even one still rendering when
//! it lands) is never served after it, and readers of the new generation wait
//! for the one render of it instead of each running their own. Nothing ages
//! out on a timer; only a page that says when its content turns with the clock
//! expires, then. The whole is bounded by bytes, least recently used first out.
use std::any::{Any, TypeId};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use actix_web::web::Bytes;
use chrono::{DateTime, Utc};
use moka::policy::EvictionPolicy;

/// The bound tests use; the setting `STATUSPOST_PAGE_CACHE_MB` gives the served one.
pub const DEFAULT_MAX_BYTES: u64 = 32 * 1024 * 1024;

/// Fast settings: a cache miss pays for both encoders, and the pages are
/// small and repetitive, so higher levels gain little (see the README).
const GZIP_LEVEL: u32 = 6;
const BROTLI_QUALITY: u32 = 4;
/// The largest window; a smaller body gets the smallest window that holds it,
/// since the encoder clears tables sized by the window for every page.
const BROTLI_WINDOW: u32 = 20;

/// What moka, the `Arc`, the key's `String` and the `Page` cost beside the
/// bytes themselves, so many tiny entries still count against the bound.
const ENTRY_OVERHEAD: usize = 512;

/// A freshly rendered body, and when the clock alone would change it.
pub struct Rendered {
    pub body: String,
    /// The next moment the page would read differently with no write (a
    /// "today" turning into a date, a window opening); `None` when only
    /// writes change it.
    pub changes_at: Option<DateTime<Utc>>,
}

impl Rendered {
    pub fn until(body: String, changes_at: DateTime<Utc>) -> Self {
        Self {
            body,
            changes_at: Some(changes_at),
        }
    }
}

impl From<String> for Rendered {
    fn from(body: String) -> Self {
        Self {
            body,
            changes_at: None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Coding {
    Identity,
    Gzip,
    Brotli,
}

impl Coding {
    /// The `Content-Encoding` value; `None` for the body as it is.
    pub fn header(self) -> Option<&'static str> {
        match self {
            Self::Identity => None,
            Self::Gzip => Some("gzip"),
            Self::Brotli => Some("br"),
        }
    }
}

/// One representation of a page: its bytes and a strong ETag of its own.
pub struct Variant {
    pub coding: Coding,
    pub body: Bytes,
    pub etag: String,
}

/// A page and its encoded variants. The plain body is kept as rendered; each
/// encoding is made once, when a reader first asks for it: a miss pays for the
/// one its reader takes, not for both encoders.
pub struct Page {
    pub content_type: &'static str,
    identity: Variant,
    brotli: OnceLock<Variant>,
    gzip: OnceLock<Variant>,
    /// The digest every variant's tag is made of.
    tag: String,
    /// When the page stops being true.
    expires: Option<Instant>,
}

impl Page {
    pub fn new(rendered: Rendered, content_type: &'static str, now: DateTime<Utc>) -> Self {
        use sha2::Digest;
        // Exactly sized, so that the weigher's count is what the entry holds:
        // a rendered String and a grown Vec keep up to twice their length.
        let body = exact(rendered.body.into_bytes());
        let digest = sha2::Sha256::digest(&body);
        let tag = base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            &digest[..12],
        );
        Self {
            content_type,
            identity: Variant {
                coding: Coding::Identity,
                body,
                etag: format!("\"{tag}\""),
            },
            brotli: OnceLock::new(),
            gzip: OnceLock::new(),
            tag,
            expires: rendered
                .changes_at
                .map(|at| Instant::now() + (at - now).to_std().unwrap_or(Duration::ZERO)),
        }
    }

    /// The variant in `coding`, encoded now if no reader asked for it before.
    /// Even a tiny body is encoded: served plain to a reader who accepts
    /// gzip, it would be compressed again on the way out by actix's
    /// `Compress`, under the plain body's ETag.
    pub fn variant(&self, coding: Coding) -> &Variant {
        self.variant_made(coding).0
    }

    /// [`Page::variant`], and whether this call encoded it.
    fn variant_made(&self, coding: Coding) -> (&Variant, bool) {
        let (cell, suffix) = match coding {
            Coding::Identity => return (&self.identity, false),
            Coding::Brotli => (&self.brotli, "br"),
            Coding::Gzip => (&self.gzip, "gz"),
        };
        let mut made = false;
        let v = cell.get_or_init(|| {
            made = true;
            Variant {
                coding,
                body: exact(compress(coding, &self.identity.body)),
                etag: format!("\"{}.{suffix}\"", self.tag),
            }
        });
        (v, made)
    }

    pub fn identity(&self) -> &Variant {
        &self.identity
    }

    fn weight(&self, key: &str) -> u32 {
        let bytes: usize = [Some(&self.identity), self.brotli.get(), self.gzip.get()]
            .into_iter()
            .flatten()
            .map(|v| v.body.len() + v.etag.len())
            .sum();
        u32::try_from(bytes + key.len() + ENTRY_OVERHEAD).unwrap_or(u32::MAX)
    }

    fn time_left(&self, now: Instant) -> Option<Duration> {
        self.expires.map(|e| e.saturating_duration_since(now))
    }
}

fn exact(bytes: Vec<u8>) -> Bytes {
    Bytes::from(bytes.into_boxed_slice())
}

fn compress(coding: Coding, body: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut out = Vec::with_capacity(body.len() / 3);
    match coding {
        Coding::Gzip => {
            let mut enc =
                flate2::write::GzEncoder::new(&mut out, flate2::Compression::new(GZIP_LEVEL));
            enc.write_all(body).expect("writing to memory");
            enc.finish().expect("writing to memory");
        }
        Coding::Brotli => {
            let fits = (usize::BITS - body.len().leading_zeros()).clamp(10, BROTLI_WINDOW);
            let mut enc = brotli::CompressorWriter::new(&mut out, 4096, BROTLI_QUALITY, fits);
            enc.write_all(body).expect("writing to memory");
            enc.flush().expect("writing to memory");
        }
        Coding::Identity => out.extend_from_slice(body),
    }
    out
}

type Key = (u64, String);

/// Expires a page when its content turns with the clock, and never otherwise.
struct ClockExpiry;

impl moka::Expiry<Key, Arc<Page>> for ClockExpiry {
    fn expire_after_create(&self, _: &Key, page: &Arc<Page>, now: Instant) -> Option<Duration> {
        page.time_left(now)
    }

    /// A page is stored again when a new variant of it is made (to weigh it
    /// anew); it still stops being true when it did.
    fn expire_after_update(
        &self,
        _: &Key,
        page: &Arc<Page>,
        now: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        page.time_left(now)
    }
}

/// What several pages are rendered from (the front page in each reader's
/// zone reads the same components, incidents and bars), kept as a page is:
/// under the generation it was read in, until the clock would change it.
struct Shared {
    value: Arc<dyn Any + Send + Sync>,
    lifetime: Option<Duration>,
}

/// The generation, the data's type and its name: a name read as two types is two entries.
type SharedKey = (u64, TypeId, &'static str);

struct SharedExpiry;

impl moka::Expiry<SharedKey, Arc<Shared>> for SharedExpiry {
    fn expire_after_create(&self, _: &SharedKey, s: &Arc<Shared>, _: Instant) -> Option<Duration> {
        s.lifetime
    }
}

/// A few kinds of shared data, each small: what one page shows.
const SHARED_ENTRIES: u64 = 16;

pub struct PageCache {
    pages: moka::future::Cache<Key, Arc<Page>>,
    shared: moka::future::Cache<SharedKey, Arc<Shared>>,
    generation: AtomicU64,
    /// Renders run, readable by tests and the benchmark; also a metric.
    renders: AtomicU64,
    max_bytes: u64,
    /// The generation, for whoever follows the changes (a static copy).
    changes: tokio::sync::watch::Sender<u64>,
}

impl Default for PageCache {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_BYTES)
    }
}

impl PageCache {
    pub fn new(max_bytes: u64) -> Self {
        let pages = moka::future::Cache::builder()
            .max_capacity(max_bytes)
            .weigher(|(_, path): &Key, page: &Arc<Page>| page.weight(path))
            .eviction_policy(EvictionPolicy::lru())
            .expire_after(ClockExpiry)
            .build();
        let shared = moka::future::Cache::builder()
            .max_capacity(SHARED_ENTRIES)
            .expire_after(SharedExpiry)
            .build();
        Self {
            pages,
            shared,
            generation: AtomicU64::new(0),
            renders: AtomicU64::new(0),
            max_bytes,
            changes: tokio::sync::watch::Sender::new(0),
        }
    }

    /// The page under `key`, rendering it on a miss. Concurrent callers for a
    /// key being rendered wait for that one render; an error is handed to each
    /// of them and is not kept.
    ///
    /// The page comes back with its variant in `coding` made; when this call
    /// made it, the entry is stored again so that the bound counts its bytes.
    pub async fn get_or_render<Fut, E>(
        &self,
        key: String,
        content_type: &'static str,
        coding: Coding,
        render: Fut,
    ) -> Result<Arc<Page>, Arc<E>>
    where
        Fut: std::future::Future<Output = Result<Rendered, E>>,
        E: Send + Sync + 'static,
    {
        let generation = self.generation.load(Ordering::Acquire);
        let entry = self
            .pages
            .entry((generation, key))
            .or_try_insert_with(async {
                self.renders.fetch_add(1, Ordering::Relaxed);
                let rendered = render.await?;
                Ok(Arc::new(Page::new(rendered, content_type, Utc::now())))
            })
            .await?;
        if entry.is_fresh() {
            metrics::counter!("statuspost_page_cache_misses_total").increment(1);
        } else {
            metrics::counter!("statuspost_page_cache_hits_total").increment(1);
        }
        let fresh = entry.is_fresh();
        let key = entry.key().clone();
        let page = entry.into_value();
        let (_, made) = page.variant_made(coding);
        // A page of a generation gone by is never asked for again: not stored anew.
        if made && self.generation.load(Ordering::Acquire) == generation {
            self.pages.insert(key, Arc::clone(&page)).await;
        }
        if fresh || made {
            metrics::gauge!("statuspost_page_cache_bytes").set(self.pages.weighted_size() as f64);
        }
        Ok(page)
    }

    /// The data under `key` for this generation, read by `load` on a miss
    /// (once, however many renders ask meanwhile). `load` gives the value and
    /// when the clock alone would change it.
    pub async fn shared<T, Fut, E>(&self, key: &'static str, load: Fut) -> Result<Arc<T>, Arc<E>>
    where
        T: Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<(T, Option<DateTime<Utc>>), E>>,
        E: Send + Sync + 'static,
    {
        let generation = self.generation.load(Ordering::Acquire);
        let entry = self
            .shared
            .try_get_with((generation, TypeId::of::<T>(), key), async {
                let (value, changes_at) = load.await?;
                Ok(Arc::new(Shared {
                    value: Arc::new(value),
                    lifetime: changes_at
                        .map(|at| (at - Utc::now()).to_std().unwrap_or(Duration::ZERO)),
                }))
            })
            .await?;
        Ok(Arc::clone(&entry.value)
            .downcast::<T>()
            .expect("keyed by its type"))
    }

    /// Forgets every page: something readers see has changed.
    pub fn invalidate(&self) {
        let generation = self.generation.fetch_add(1, Ordering::AcqRel) + 1;
        self.changes.send_replace(generation);
        // Keys of older generations are never asked for again; this frees
        // their bytes now rather than when the LRU reaches them.
        self.pages.invalidate_all();
        self.shared.invalidate_all();
    }

    /// Marks itself changed at every invalidation.
    pub fn follow(&self) -> tokio::sync::watch::Receiver<u64> {
        self.changes.subscribe()
    }

    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// How many renders have run since start.
    pub fn renders(&self) -> u64 {
        self.renders.load(Ordering::Relaxed)
    }

    /// Bytes held, as the weigher counts them, once pending evictions are done.
    pub async fn weighed_bytes(&self) -> u64 {
        self.pages.run_pending_tasks().await;
        self.pages.weighted_size()
    }

    pub fn max_bytes(&self) -> u64 {
        self.max_bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(body: &str) -> Rendered {
        body.to_owned().into()
    }

    async fn get(c: &PageCache, key: &str, body: &str) -> Arc<Page> {
        let body = body.to_owned();
        c.get_or_render::<_, ()>(key.into(), "text/html", Coding::Identity, async move {
            Ok(page(&body))
        })
        .await
        .unwrap()
    }

    #[tokio::test]
    async fn a_write_invalidates() {
        let c = PageCache::default();
        get(&c, "/", "old").await;
        assert_eq!(&get(&c, "/", "unused").await.identity().body[..], b"old");
        c.invalidate();
        assert_eq!(&get(&c, "/", "new").await.identity().body[..], b"new");
        assert_eq!(c.renders(), 2);
    }

    #[tokio::test]
    async fn a_page_rendered_across_a_write_is_never_served_after_it() {
        let c = Arc::new(PageCache::default());
        let (started_tx, started_rx) = tokio::sync::oneshot::channel();
        let (finish_tx, finish_rx) = tokio::sync::oneshot::channel::<()>();
        let slow = {
            let c = c.clone();
            tokio::spawn(async move {
                c.get_or_render::<_, ()>("/".into(), "text/html", Coding::Identity, async move {
                    started_tx.send(()).unwrap();
                    finish_rx.await.unwrap();
                    Ok(page("before the write"))
                })
                .await
                .unwrap()
            })
        };
        started_rx.await.unwrap();
        c.invalidate();
        finish_tx.send(()).unwrap();
        assert_eq!(
            &slow.await.unwrap().identity().body[..],
            b"before the write"
        );
        assert_eq!(&get(&c, "/", "after").await.identity().body[..], b"after");
    }

    #[tokio::test]
    async fn concurrent_readers_of_a_cold_key_share_one_render() {
        let c = Arc::new(PageCache::default());
        let (go_tx, go_rx) = tokio::sync::watch::channel(false);
        let readers: Vec<_> = (0..50)
            .map(|_| {
                let c = c.clone();
                let mut go = go_rx.clone();
                tokio::spawn(async move {
                    c.get_or_render::<_, ()>(
                        "/".into(),
                        "text/html",
                        Coding::Identity,
                        async move {
                            // Hold the render open until every reader has asked.
                            go.wait_for(|g| *g).await.unwrap();
                            Ok(page("one"))
                        },
                    )
                    .await
                    .unwrap()
                })
            })
            .collect();
        tokio::task::yield_now().await;
        go_tx.send(true).unwrap();
        for r in readers {
            assert_eq!(&r.await.unwrap().identity().body[..], b"one");
        }
        assert_eq!(c.renders(), 1);
    }

    #[tokio::test]
    async fn errors_are_not_kept() {
        let c = PageCache::default();
        let failed = c
            .get_or_render("/".into(), "text/html", Coding::Brotli, async {
                Err::<Rendered, _>("down")
            })
            .await;
        assert!(failed.is_err());
        assert_eq!(&get(&c, "/", "back").await.identity().body[..], b"back");
    }

    #[tokio::test]
    async fn an_encoding_is_made_when_first_asked_for_and_counted_against_the_bound() {
        let c = PageCache::default();
        let body = "<p>an incident page of a few kilobytes</p>\n".repeat(100);
        let plain = get(&c, "/", &body).await;
        assert!(plain.brotli.get().is_none() && plain.gzip.get().is_none());
        let before = c.weighed_bytes().await;
        let br = c
            .get_or_render::<_, ()>("/".into(), "text/html", Coding::Brotli, async {
                Ok(page("x"))
            })
            .await
            .unwrap();
        assert!(Arc::ptr_eq(&plain, &br), "the same page, not a render");
        assert_eq!(c.renders(), 1);
        let v = br.brotli.get().expect("made for its reader");
        assert_eq!(v.etag, format!("\"{}.br\"", br.tag));
        assert!(br.gzip.get().is_none(), "no reader asked for gzip");
        let after = c.weighed_bytes().await;
        assert_eq!(after, before + (v.body.len() + v.etag.len()) as u64);
    }

    #[tokio::test]
    async fn many_distinct_urls_stay_under_the_byte_bound() {
        let bound = 256 * 1024;
        let c = PageCache::new(bound);
        let body = "<p>an incident page of a few kilobytes</p>\n".repeat(100);
        for id in 0..2_000 {
            get(&c, &format!("/incidents/{id}|UTC"), &body).await;
        }
        let held = c.weighed_bytes().await;
        assert!(held <= bound, "{held} bytes held, bound {bound}");
        // And it still holds something: the bound is a budget, not a refusal.
        assert!(held > bound / 2, "{held} bytes held");
    }

    #[test]
    fn variants_decompress_to_the_page_and_have_their_own_etags() {
        use std::io::Read;
        let body = "<li>Website: Operational</li>\n".repeat(200);
        let p = Page::new(page(&body), "text/html", Utc::now());
        let br = p.variant(Coding::Brotli);
        let gz = p.variant(Coding::Gzip);
        let plain = p.variant(Coding::Identity);
        assert!(br.body.len() < body.len() && gz.body.len() < body.len());
        let mut out = String::new();
        brotli::Decompressor::new(&br.body[..], 4096)
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out, body);
        out.clear();
        flate2::read::GzDecoder::new(&gz.body[..])
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out, body);
        assert_eq!(&plain.body[..], body.as_bytes());
        let tags = [&br.etag, &gz.etag, &plain.etag];
        assert!(tags.iter().all(|t| t.starts_with('"') && t.ends_with('"')));
        assert!(tags[0] != tags[1] && tags[1] != tags[2] && tags[0] != tags[2]);
    }

    #[test]
    fn a_page_that_turns_with_the_clock_expires_then_and_others_never() {
        use moka::Expiry;
        let now = Utc::now();
        let key: Key = (0, "/".into());
        let turning = Arc::new(Page::new(
            Rendered::until("today".into(), now + chrono::Duration::minutes(90)),
            "text/html",
            now,
        ));
        let at = Instant::now();
        let left = ClockExpiry.expire_after_create(&key, &turning, at).unwrap();
        let ninety = Duration::from_secs(90 * 60);
        assert!(
            left <= ninety && left > ninety - Duration::from_secs(1),
            "{left:?}"
        );
        // Stored again half an hour on, for a new encoding: an hour left, not 90 minutes.
        let later = at + Duration::from_secs(30 * 60);
        let left = ClockExpiry
            .expire_after_update(&key, &turning, later, Some(ninety))
            .unwrap();
        let hour = Duration::from_secs(60 * 60);
        assert!(
            left <= hour && left > hour - Duration::from_secs(1),
            "{left:?}"
        );
        let past = Arc::new(Page::new(
            Rendered::until("stale".into(), now - chrono::Duration::seconds(1)),
            "text/html",
            now,
        ));
        assert_eq!(
            ClockExpiry.expire_after_create(&key, &past, Instant::now()),
            Some(Duration::ZERO)
        );
        let steady = Arc::new(Page::new(page("steady"), "text/html", now));
        assert_eq!(ClockExpiry.expire_after_create(&key, &steady, at), None);
        assert_eq!(
            ClockExpiry.expire_after_update(&key, &steady, later, None),
            None
        );
    }
}
