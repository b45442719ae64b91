//! argon2id password hashing, always on the blocking pool (never on the async workers).

use argon2::{
    password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
    Argon2,
};

use crate::error::AppError;

/// A real hash of a random password, checked when the phone is unknown or has no password
/// so that every failed login costs the same time. Computed once, on the blocking pool.
static DUMMY_HASH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let salt = SaltString::generate(&mut OsRng);
    let random = crate::otp::service::generate_code(16);
    Argon2::default().hash_password(random.as_bytes(), &salt).map(|h| h.to_string()).unwrap_or_default()
});

pub async fn hash(password: String) -> Result<String, AppError> {
    tokio::task::spawn_blocking(move || {
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
    tokio::task::spawn_blocking(move || {
        let known = stored.is_some();
        let phc = stored.unwrap_or_else(|| DUMMY_HASH.clone());
        let ok = match PasswordHash::new(&phc) {
            Ok(parsed) => Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok(),
            Err(_) => false,
        };
        ok && known
    })
    .await
    .map_err(AppError::from)
}
