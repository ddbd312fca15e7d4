//! Rendered public pages, kept until the next write.
//!
//! Each write bumps a generation; an entry from an older generation is a miss.
//! Entries also age out after a few seconds so that several `serve` processes
//! sharing one PostgreSQL converge without talking to each other.
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::web::Bytes;

const MAX_AGE: Duration = Duration::from_secs(5);
const MAX_ENTRIES: usize = 2_000;

#[derive(Clone)]
pub struct CachedPage {
    pub body: Bytes,
    pub etag: String,
    pub content_type: &'static str,
}

#[derive(Default)]
pub struct PageCache {
    generation: AtomicU64,
    entries: Mutex<HashMap<String, (u64, Instant, CachedPage)>>,
}

impl PageCache {
    pub fn get(&self, key: &str) -> Option<CachedPage> {
        let generation = self.generation.load(Ordering::Acquire);
        let entries = self.entries.lock().expect("page cache poisoned");
        entries
            .get(key)
            .filter(|(g, at, _)| *g == generation && at.elapsed() < MAX_AGE)
            .map(|(_, _, page)| page.clone())
    }

    /// Stores a page rendered while `generation` was current.
    pub fn put(
        &self,
        key: String,
        generation: u64,
        body: Bytes,
        content_type: &'static str,
    ) -> CachedPage {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(&body);
        let etag = format!(
            "\"{}\"",
            base64::Engine::encode(
                &base64::engine::general_purpose::URL_SAFE_NO_PAD,
                &digest[..12]
            )
        );
        let page = CachedPage {
            body,
            etag,
            content_type,
        };
        let mut entries = self.entries.lock().expect("page cache poisoned");
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(key, (generation, Instant::now(), page.clone()));
        page
    }

    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_invalidates() {
        let c = PageCache::default();
        let g = c.generation();
        c.put("/".into(), g, Bytes::from_static(b"x"), "text/html");
        assert!(c.get("/").is_some());
        c.invalidate();
        assert!(c.get("/").is_none());
    }

    #[test]
    fn a_page_rendered_before_a_write_is_never_served_after_it() {
        let c = PageCache::default();
        let g = c.generation();
        c.invalidate();
        c.put("/".into(), g, Bytes::from_static(b"old"), "text/html");
        assert!(c.get("/").is_none());
    }
}
