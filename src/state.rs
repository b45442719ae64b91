//! The one cloneable application state: database handles, configuration, the SMS sender.

use std::sync::Arc;

use mongodb::{Client, Database};

use crate::{
    auth::{cache::SessionCache, jwt::JwtKeys},
    config::Config,
    db::stripes::Stripes,
    otp::sender::SmsSender,
};

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub config: Config,
    pub client: Client,
    pub db: Database,
    pub sms: Arc<dyn SmsSender>,
    pub jwt: JwtKeys,
    /// Per-shop queue for money-moving transactions (see `db::stripes`).
    pub shop_locks: Stripes,
    /// Device sessions recently found active (see `auth::cache`).
    pub sessions: SessionCache,
    /// The clock read where today's India date decides an answer (tests pin it).
    pub clock: crate::time::Clock,
}

impl AppState {
    pub fn new(config: Config, client: Client, db: Database, sms: Arc<dyn SmsSender>) -> Self {
        let jwt = JwtKeys::new(&config);
        let sessions = SessionCache::new(config.session_cache_ttl);
        AppState(Arc::new(Inner {
            config,
            client,
            db,
            sms,
            jwt,
            shop_locks: Stripes::default(),
            sessions,
            clock: Default::default(),
        }))
    }
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}
