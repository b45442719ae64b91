//! Shared secrets handling used by several features (auth, otp, client profile): argon2id
//! password hashing ([`password`]) and CSPRNG numeric codes ([`generate_code`]). It depends on
//! no feature module, so each feature can use it without a cycle (see docs/ARCHITECTURE.md,
//! "Module dependency order").

pub mod password;

use rand::Rng;

/// A random code of `len` ASCII digits from the OS CSPRNG (OTP codes; the dummy password
/// behind [`password::verify`]).
pub fn generate_code(len: usize) -> String {
    let mut rng = rand::rngs::OsRng;
    (0..len).map(|_| char::from(b'0' + rng.gen_range(0..10u8))).collect()
}
