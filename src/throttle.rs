//! Slows down guessing: after a few failed sign-ins for one account or from one
//! address, further tries wait, longer each time.
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const FREE_FAILURES: u32 = 5;
const MAX_WAIT: Duration = Duration::from_secs(15 * 60);

#[derive(Default)]
pub struct LoginThrottle {
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

impl LoginThrottle {
    /// How long the caller must still wait before trying any of `keys`, if at all.
    pub fn wait(&self, keys: &[String]) -> Option<Duration> {
        let map = self.failures.lock().expect("throttle poisoned");
        keys.iter()
            .filter_map(|k| map.get(k))
            .filter(|(n, _)| *n >= FREE_FAILURES)
            .filter_map(|(n, last)| {
                let wait =
                    Duration::from_secs(30u64.saturating_mul(1 << (n - FREE_FAILURES).min(10)))
                        .min(MAX_WAIT);
                wait.checked_sub(last.elapsed())
            })
            .max()
    }

    pub fn failed(&self, keys: &[String]) {
        let mut map = self.failures.lock().expect("throttle poisoned");
        if map.len() > 100_000 {
            // Forget old entries rather than grow without bound under a spray of addresses.
            map.retain(|_, (_, last)| last.elapsed() < MAX_WAIT);
        }
        for k in keys {
            let e = map.entry(k.clone()).or_insert((0, Instant::now()));
            e.0 += 1;
            e.1 = Instant::now();
        }
    }

    pub fn succeeded(&self, keys: &[String]) {
        let mut map = self.failures.lock().expect("throttle poisoned");
        for k in keys {
            map.remove(k);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_after_free_failures() {
        let t = LoginThrottle::default();
        let keys = vec!["acct:a@b.c".to_owned()];
        for _ in 0..FREE_FAILURES - 1 {
            t.failed(&keys);
        }
        assert!(t.wait(&keys).is_none());
        t.failed(&keys);
        assert!(t.wait(&keys).is_some());
        t.succeeded(&keys);
        assert!(t.wait(&keys).is_none());
    }
}
