//! argon2id password hashing, off the async executor (hashing is deliberately slow).

use argon2::password_hash::{rand_core::OsRng, PasswordHash as Phc, SaltString};
use argon2::{Argon2, PasswordHasher as _, PasswordVerifier as _};
use async_trait::async_trait;

use domain::auth::ports::PasswordHasher;
use domain::values::{Password, PasswordHash};

/// argon2id with the crate's default (OWASP-recommended) parameters.
#[derive(Debug, Default, Clone, Copy)]
pub struct Argon2Hasher;

#[async_trait]
impl PasswordHasher for Argon2Hasher {
    async fn hash(&self, password: &Password) -> anyhow::Result<PasswordHash> {
        let password = password.clone();
        tokio::task::spawn_blocking(move || {
            let salt = SaltString::generate(&mut OsRng);
            Argon2::default()
                .hash_password(password.expose().as_bytes(), &salt)
                .map(|h| PasswordHash::from_phc(h.to_string()))
                .map_err(|e| anyhow::anyhow!("failed to hash a password: {e}"))
        })
        .await?
    }

    async fn verify(&self, password: &Password, hash: &PasswordHash) -> bool {
        let password = password.clone();
        let hash = hash.clone();
        tokio::task::spawn_blocking(move || {
            Phc::new(hash.as_str())
                .map(|phc| {
                    Argon2::default()
                        .verify_password(password.expose().as_bytes(), &phc)
                        .is_ok()
                })
                .unwrap_or(false)
        })
        .await
        .unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_and_verify() {
        let hasher = Argon2Hasher;
        let password = Password::new("correct horse battery").unwrap();
        let hash = hasher.hash(&password).await.unwrap();
        assert!(hash.as_str().starts_with("$argon2id$"));
        assert!(hasher.verify(&password, &hash).await);
        assert!(
            !hasher
                .verify(&Password::new("wrong password").unwrap(), &hash)
                .await
        );
    }
}
