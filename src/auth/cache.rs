//! A short-lived, in-process memory of device sessions found active, so that a burst of
//! requests with the same token does not read `devicesessions` and `clients` on every
//! request (two reads per request otherwise).
//!
//! Correctness:
//! - On this instance a logout, a login (which replaces the other sessions) or a
//!   registration forgets the client's entries *before* answering, so the replaced or
//!   logged-out token is refused on its very next request here.
//! - A database read that started before such a change cannot re-insert a stale "active"
//!   entry after it: every change bumps a generation number, and an entry is only stored
//!   when the generation is the one seen before the read.
//! - Another instance (or a change made straight in the database) is seen within the
//!   time-to-live (`SESSION_CACHE_MS`, 1,000 ms by default; 0 turns the cache off).

use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicU64, Ordering},
        Mutex,
    },
    time::{Duration, Instant},
};

use bson::oid::ObjectId;

use crate::access::Actor;

/// At most this many sessions are remembered; the map is cleared when it is full.
const MAX_ENTRIES: usize = 100_000;

struct Entry {
    client_id: ObjectId,
    /// The user as read with the session (role, grants): a role change or a deactivation is
    /// seen within the time-to-live, like a session change.
    actor: Actor,
    checked_at: Instant,
}

pub struct SessionCache {
    ttl: Duration,
    generation: AtomicU64,
    map: Mutex<HashMap<ObjectId, Entry>>,
}

impl SessionCache {
    pub fn new(ttl: Duration) -> Self {
        SessionCache { ttl, generation: AtomicU64::new(0), map: Mutex::new(HashMap::new()) }
    }

    pub fn enabled(&self) -> bool {
        !self.ttl.is_zero()
    }

    /// Read before the database check; pass it to [`SessionCache::remember`].
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// The user of `session` of `client` when the session was found active less than the
    /// time-to-live ago.
    pub fn is_fresh(&self, session: ObjectId, client: ObjectId) -> Option<Actor> {
        if !self.enabled() {
            return None;
        }
        let map = self.map.lock().ok()?;
        map.get(&session)
            .filter(|e| e.client_id == client && e.checked_at.elapsed() < self.ttl)
            .map(|e| e.actor.clone())
    }

    /// Remember a session the database just confirmed active, with its user, unless a session
    /// or staff change happened since `generation` was read.
    pub fn remember(&self, session: ObjectId, client: ObjectId, actor: Actor, generation: u64, checked_at: Instant) {
        if !self.enabled() {
            return;
        }
        let Ok(mut map) = self.map.lock() else {
            return;
        };
        // compared under the lock that `forget_client` takes after bumping it
        if self.generation.load(Ordering::Acquire) != generation {
            return;
        }
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
        map.insert(session, Entry { client_id: client, actor, checked_at });
    }

    /// Forget every session of `client` (logout, login, registration, a staff change).
    pub fn forget_client(&self, client: ObjectId) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        if let Ok(mut map) = self.map.lock() {
            map.retain(|_, e| e.client_id != client);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owner(c: ObjectId) -> Actor {
        Actor::owner(c, "Owner")
    }

    #[test]
    fn remembers_within_ttl_and_forgets_on_change() {
        let c = SessionCache::new(Duration::from_secs(60));
        let (s, client, other) = (ObjectId::new(), ObjectId::new(), ObjectId::new());
        assert!(c.is_fresh(s, client).is_none());
        c.remember(s, client, owner(client), c.generation(), Instant::now());
        assert_eq!(c.is_fresh(s, client), Some(owner(client)));
        assert!(c.is_fresh(s, other).is_none(), "a session is bound to its client");
        c.forget_client(other);
        assert!(c.is_fresh(s, client).is_some(), "another client's change keeps it");
        c.forget_client(client);
        assert!(c.is_fresh(s, client).is_none());
    }

    #[test]
    fn a_read_older_than_a_change_is_not_stored() {
        let c = SessionCache::new(Duration::from_secs(60));
        let (s, client) = (ObjectId::new(), ObjectId::new());
        let g = c.generation();
        c.forget_client(client); // a logout lands while the read is in flight
        c.remember(s, client, owner(client), g, Instant::now());
        assert!(c.is_fresh(s, client).is_none());
    }

    #[test]
    fn expires_and_can_be_off() {
        let c = SessionCache::new(Duration::from_millis(1));
        let (s, client) = (ObjectId::new(), ObjectId::new());
        c.remember(s, client, owner(client), c.generation(), Instant::now() - Duration::from_millis(5));
        assert!(c.is_fresh(s, client).is_none());
        let off = SessionCache::new(Duration::ZERO);
        off.remember(s, client, owner(client), off.generation(), Instant::now());
        assert!(off.is_fresh(s, client).is_none());
    }
}
