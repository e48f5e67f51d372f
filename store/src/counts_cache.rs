//! A short-lived cache of counts (status counts, choice counts).
//!
//! Counting every session an administrator may see in 30 days reads an index of the whole window (about 100 ms for a
//! million sessions on SQLite). The console asks again on every 20-second refresh, from every open tab; the counts are
//! shown beside the page, not in it, so a few seconds of staleness is fine and the page itself never waits for them.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long counts are reused.
pub const TTL: Duration = Duration::from_secs(5);
/// Windows that differ by less than this share cached counts (a "last 30 days" window moves with every request).
pub const WINDOW_GRAIN_MS: i64 = 5_000;
/// Beyond this many entries, expired ones are dropped, and if none has expired, all are.
const CAPACITY: usize = 1_024;

pub(crate) struct CountsCache<V> {
    entries: Mutex<HashMap<String, (Instant, V)>>,
}

impl<V> Default for CountsCache<V> {
    fn default() -> Self {
        CountsCache { entries: Mutex::new(HashMap::new()) }
    }
}

impl<V> std::fmt::Debug for CountsCache<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CountsCache")
    }
}

impl<V: Clone> CountsCache<V> {
    pub fn get(&self, key: &str, now: Instant) -> Option<V> {
        let entries = self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        entries.get(key).filter(|(at, _)| now.duration_since(*at) < TTL).map(|(_, counts)| counts.clone())
    }

    pub fn put(&self, key: String, counts: V, now: Instant) {
        let mut entries = self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if entries.len() >= CAPACITY {
            entries.retain(|_, (at, _)| now.duration_since(*at) < TTL);
            if entries.len() >= CAPACITY {
                entries.clear();
            }
        }
        entries.insert(key, (now, counts));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sra_domain::StatusCounts;

    #[test]
    fn entries_expire_after_the_ttl_and_the_cache_stays_bounded() {
        let cache = CountsCache::default();
        let t0 = Instant::now();
        let counts = StatusCounts { connected: 3, ..StatusCounts::default() };
        cache.put("k".into(), counts.clone(), t0);
        assert_eq!(cache.get("k", t0 + Duration::from_secs(1)), Some(counts));
        assert_eq!(cache.get("k", t0 + TTL), None);
        assert_eq!(cache.get("other", t0), None);
        for i in 0..CAPACITY + 10 {
            cache.put(format!("k{i}"), StatusCounts::default(), t0);
        }
        assert!(cache.entries.lock().unwrap().len() <= CAPACITY);
    }
}
