//! argon2id password hashing, always on the blocking pool (never on the async workers), at
//! most one hash per core at a time ([`ARGON2_PERMITS`]).

use argon2::{
    password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
    Argon2,
};

use crate::error::AppError;

/// A real hash of a random password, checked when the phone is unknown or has no password
/// so that every failed login costs the same time. Computed once, on the blocking pool.
static DUMMY_HASH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let salt = SaltString::generate(&mut OsRng);
    let random = crate::security::generate_code(16);
    Argon2::default().hash_password(random.as_bytes(), &salt).map(|h| h.to_string()).unwrap_or_default()
});

/// Concurrent argon2 computations allowed: one per core. Each hash holds its memory cost
/// (argon2 default: 19 MiB) for its whole run, so a burst of logins must queue here instead of
/// stacking up in the blocking pool (512 threads x 19 MiB would be ~10 GiB) and starving the
/// cores every other request needs.
pub static ARGON2_PERMITS: std::sync::LazyLock<tokio::sync::Semaphore> = std::sync::LazyLock::new(|| {
    tokio::sync::Semaphore::new(std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2))
});

/// Run one argon2 computation on the blocking pool once a permit is free.
async fn bounded<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, AppError> {
    let _permit = ARGON2_PERMITS.acquire().await.map_err(|_| AppError::internal("argon2 permits closed"))?;
    Ok(tokio::task::spawn_blocking(work).await?)
}

/// Hash a new password (argon2id, default parameters, random salt); a PHC string.
pub async fn hash(password: String) -> Result<String, AppError> {
    bounded(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| AppError::internal(format!("argon2: {e}")))
    })
    .await?
}

/// True when `password` matches `stored` (a PHC string). With `None`, a dummy hash is
/// checked so that unknown accounts cost the same time, and false is returned.
pub async fn verify(password: String, stored: Option<String>) -> Result<bool, AppError> {
    bounded(move || {
        let known = stored.is_some();
        let phc = stored.unwrap_or_else(|| DUMMY_HASH.clone());
        let ok = match PasswordHash::new(&phc) {
            Ok(parsed) => Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok(),
            Err(_) => false,
        };
        ok && known
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// At most one argon2 run per core at a time, whatever the burst.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn argon2_work_is_bounded_by_the_cores() {
        use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
        static NOW: AtomicUsize = AtomicUsize::new(0);
        static PEAK: AtomicUsize = AtomicUsize::new(0);
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        let tasks: Vec<_> = (0..(cores * 3))
            .map(|_| {
                tokio::spawn(bounded(|| {
                    let n = NOW.fetch_add(1, SeqCst) + 1;
                    PEAK.fetch_max(n, SeqCst);
                    // real argon2 work of the size a login does
                    let ok = Argon2::default().hash_password(b"pw", &SaltString::generate(&mut OsRng)).is_ok();
                    NOW.fetch_sub(1, SeqCst);
                    ok
                }))
            })
            .collect();
        for t in tasks {
            assert!(t.await.unwrap().unwrap());
        }
        let peak = PEAK.load(SeqCst);
        assert!((1..=cores).contains(&peak), "peak {peak} concurrent hashes on {cores} cores");
        // and a hash made through the bound verifies
        let h = hash("correct horse".into()).await.unwrap();
        assert!(verify("correct horse".into(), Some(h.clone())).await.unwrap());
        assert!(!verify("wrong".into(), Some(h)).await.unwrap());
        assert!(!verify("x".into(), None).await.unwrap());
    }
}
