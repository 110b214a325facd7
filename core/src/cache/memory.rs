//! The in-process cache used when no `REDIS_URL` is configured.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

#[derive(Debug, Default, Clone)]
pub struct MemoryCache {
    entries: Arc<Mutex<HashMap<String, Entry>>>,
}

#[derive(Debug)]
struct Entry {
    value: Vec<u8>,
    expires_at: Option<Instant>,
}

impl Entry {
    fn live(&self, now: Instant) -> bool {
        self.expires_at.is_none_or(|at| at > now)
    }
}

impl MemoryCache {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Entry>> {
        // A panic while holding the lock cannot leave the map inconsistent (every operation is one call).
        self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn get(&self, key: &str) -> Option<Vec<u8>> {
        let now = Instant::now();
        let mut map = self.lock();
        match map.get(key) {
            Some(entry) if entry.live(now) => Some(entry.value.clone()),
            Some(_) => {
                map.remove(key);
                None
            }
            None => None,
        }
    }

    pub fn set(&self, key: &str, value: &[u8], ttl: Option<Duration>) {
        let now = Instant::now();
        let mut map = self.lock();
        if map.len() >= 10_000 {
            map.retain(|_, entry| entry.live(now));
        }
        map.insert(key.to_owned(), Entry { value: value.to_vec(), expires_at: ttl.map(|t| now + t) });
    }

    pub fn delete(&self, key: &str) -> bool {
        let now = Instant::now();
        self.lock().remove(key).is_some_and(|entry| entry.live(now))
    }

    pub fn set_if_absent(&self, key: &str, value: &[u8], ttl: Duration) -> bool {
        let now = Instant::now();
        let mut map = self.lock();
        if map.get(key).is_some_and(|entry| entry.live(now)) {
            return false;
        }
        map.insert(key.to_owned(), Entry { value: value.to_vec(), expires_at: Some(now + ttl) });
        true
    }

    pub fn hit(&self, key: &str, window: Duration) -> (u64, Duration) {
        let now = Instant::now();
        let mut map = self.lock();
        let entry = match map.get_mut(key) {
            Some(entry) if entry.live(now) => entry,
            _ => {
                if map.len() >= 10_000 {
                    map.retain(|_, entry| entry.live(now));
                }
                map.entry(key.to_owned())
                    .insert_entry(Entry {
                        value: 0u64.to_le_bytes().to_vec(),
                        expires_at: Some(now + window),
                    })
                    .into_mut()
            }
        };
        let count = entry.value.as_slice().try_into().map(u64::from_le_bytes).unwrap_or(0).saturating_add(1);
        entry.value = count.to_le_bytes().to_vec();
        let remaining = entry.expires_at.map_or(window, |at| at.saturating_duration_since(now));
        (count, remaining)
    }

    pub fn take(&self, key: &str) -> Option<Vec<u8>> {
        let now = Instant::now();
        self.lock().remove(key).filter(|entry| entry.live(now)).map(|entry| entry.value)
    }
}
