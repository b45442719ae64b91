//! Striped async locks keyed by tenant: money-moving transactions of one shop (sales,
//! payments) queue in-process instead of colliding on the shop's hot documents (its invoice
//! counter, its item stock) and aborting each other with write conflicts. Correctness never
//! depends on this (the transactions and guarded updates do); it only turns conflict-retry
//! storms into an orderly queue. Across several API instances the transactions still
//! arbitrate.

use std::hash::{Hash, Hasher};

use tokio::sync::{Mutex, MutexGuard};

pub struct Stripes {
    locks: Vec<Mutex<()>>,
}

impl Stripes {
    pub fn new(n: usize) -> Self {
        Stripes { locks: (0..n.max(1)).map(|_| Mutex::new(())).collect() }
    }

    /// Wait for the stripe of `key`.
    pub async fn lock<K: Hash>(&self, key: &K) -> MutexGuard<'_, ()> {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        key.hash(&mut h);
        let i = (h.finish() % self.locks.len() as u64) as usize;
        self.locks[i].lock().await
    }
}

impl Default for Stripes {
    fn default() -> Self {
        Stripes::new(1024)
    }
}
