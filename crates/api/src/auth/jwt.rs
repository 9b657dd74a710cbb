//! Session tokens: HS256 JWTs carrying `{userId, tenantId, role, ver, exp}` and a `kid` header.
//!
//! The algorithm is pinned on verification (a token claiming `none` or RS256 is refused) and
//! `exp` is enforced with no leeway: tokens are issued and checked by the same clock.
//!
//! Key rotation: tokens are signed with the current secret and name it in `kid`, a short hash of
//! the secret (16 hex digits of SHA-256 over a fixed prefix and the secret), which identifies the
//! key without revealing anything usable about it. Tokens signed by a *previous* secret are
//! still accepted until a configured instant, so rotating the secret does not log everyone out
//! at once; removing a previous secret, or passing that instant, ends its tokens. A token naming
//! a `kid` this server does not know is refused. A token with no `kid` at all (issued before
//! tokens carried one) is checked against the current secret only.
//!
//! `ver` is the user's token version when the token was issued (0 when absent); the domain
//! refuses a token whose version is no longer the user's (see `AuthService::authenticate`).

use std::time::Duration;

use chrono::{DateTime, Utc};
use jsonwebtoken::{
    decode, decode_header, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation,
};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use domain::auth::models::{Role, Session};
use domain::ids::{TenantId, UserId};

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Claims {
    user_id: String,
    tenant_id: String,
    role: String,
    /// The user's token version at issue; tokens issued before versions existed carry none.
    #[serde(default)]
    ver: u32,
    exp: i64,
    iat: i64,
}

/// The `kid` of a secret: 16 hex digits of a SHA-256 over a fixed prefix and the secret.
pub fn key_id(secret: &SecretString) -> String {
    let mut hash = Sha256::new();
    hash.update(b"stockroom-jwt-kid\0");
    hash.update(secret.expose_secret().as_bytes());
    hex::encode(&hash.finalize()[..8])
}

/// One secret tokens may be signed with.
#[derive(Clone)]
struct VerifyingKey {
    kid: String,
    decoding: DecodingKey,
    /// After this instant the key's tokens are refused (`None`: the current key).
    until: Option<DateTime<Utc>>,
}

/// Issues tokens with the current secret and verifies them with it or a previous one.
#[derive(Clone)]
pub struct TokenService {
    encoding: EncodingKey,
    kid: String,
    /// The current key first, then the previous ones.
    keys: Vec<VerifyingKey>,
    validation: Validation,
    ttl: Duration,
}

/// An issued token and when it stops working.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

impl TokenService {
    /// Tokens signed and verified with `secret` only.
    pub fn new(secret: &SecretString, ttl: Duration) -> anyhow::Result<Self> {
        Self::rotating(secret, &[], Utc::now(), ttl)
    }

    /// Tokens signed with `current`; tokens signed by one of `previous` are accepted until
    /// `previous_until`.
    pub fn rotating(
        current: &SecretString,
        previous: &[SecretString],
        previous_until: DateTime<Utc>,
        ttl: Duration,
    ) -> anyhow::Result<Self> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp"]);
        let key = |secret: &SecretString, until| -> anyhow::Result<VerifyingKey> {
            Ok(VerifyingKey {
                kid: key_id(secret),
                decoding: DecodingKey::from_secret(secret.expose_secret().as_bytes())?,
                until,
            })
        };
        let current_kid = key_id(current);
        let mut keys = vec![key(current, None)?];
        for secret in previous {
            // The current secret listed again as a previous one stays current.
            if key_id(secret) != current_kid {
                keys.push(key(secret, Some(previous_until))?);
            }
        }
        Ok(Self {
            encoding: EncodingKey::from_secret(current.expose_secret().as_bytes())?,
            kid: current_kid,
            keys,
            validation,
            ttl,
        })
    }

    pub fn issue(&self, session: &Session) -> anyhow::Result<IssuedToken> {
        let now = Utc::now();
        let expires_at = now + chrono::Duration::from_std(self.ttl)?;
        let claims = Claims {
            user_id: session.user_id.to_string(),
            tenant_id: session.tenant_id.to_string(),
            role: session.role.as_str().to_owned(),
            ver: session.token_version,
            exp: expires_at.timestamp(),
            iat: now.timestamp(),
        };
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(self.kid.clone());
        let token = encode(&header, &claims, &self.encoding)?;
        Ok(IssuedToken { token, expires_at })
    }

    /// The session of a valid token; `None` for anything else (bad signature, expired,
    /// malformed, another algorithm, an unknown or retired key, claims that are not ids).
    pub fn verify(&self, token: &str) -> Option<Session> {
        self.verify_until(token).map(|(session, _)| session)
    }

    /// The session of a valid token and the moment the token expires.
    pub fn verify_until(&self, token: &str) -> Option<(Session, DateTime<Utc>)> {
        self.verify_at(token, Utc::now())
    }

    fn verify_at(&self, token: &str, now: DateTime<Utc>) -> Option<(Session, DateTime<Utc>)> {
        let header = decode_header(token).ok()?;
        let key = match &header.kid {
            Some(kid) => self.keys.iter().find(|key| &key.kid == kid)?,
            None => &self.keys[0],
        };
        if key.until.is_some_and(|until| now >= until) {
            return None;
        }
        let data = decode::<Claims>(token, &key.decoding, &self.validation).ok()?;
        let c = data.claims;
        let session = Session {
            tenant_id: c.tenant_id.parse::<TenantId>().ok()?,
            user_id: c.user_id.parse::<UserId>().ok()?,
            role: Role::parse(&c.role)?,
            token_version: c.ver,
        };
        Some((session, DateTime::from_timestamp(c.exp, 0)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(s: &str) -> SecretString {
        SecretString::from(s.to_owned())
    }

    fn service(s: &str) -> TokenService {
        TokenService::new(&secret(s), Duration::from_secs(60)).unwrap()
    }

    fn session() -> Session {
        Session {
            tenant_id: TenantId::new(),
            user_id: UserId::new(),
            role: Role::Manager,
            token_version: 3,
        }
    }

    const OLD: &str = "the-old-secret-that-is-long-enough-0123";
    const NEW: &str = "the-new-secret-that-is-long-enough-4567";

    #[test]
    fn a_token_round_trips() {
        let s = session();
        let svc = service("a-secret-that-is-long-enough-0123456789");
        let issued = svc.issue(&s).unwrap();
        assert_eq!(svc.verify(&issued.token), Some(s.clone()));
        let (_, until) = svc.verify_until(&issued.token).unwrap();
        assert_eq!(until.timestamp(), issued.expires_at.timestamp());
    }

    #[test]
    fn another_secret_or_garbage_is_refused() {
        let issued = service("a-secret-that-is-long-enough-0123456789")
            .issue(&session())
            .unwrap();
        assert_eq!(
            service("another-secret-that-is-long-enough-xx").verify(&issued.token),
            None
        );
        assert_eq!(
            service("a-secret-that-is-long-enough-0123456789").verify("not.a.jwt"),
            None
        );
    }

    #[test]
    fn a_token_names_its_key_by_a_hash_that_is_not_the_secret() {
        let issued = service(NEW).issue(&session()).unwrap();
        let kid = decode_header(&issued.token).unwrap().kid.unwrap();
        assert_eq!(kid, key_id(&secret(NEW)));
        assert_eq!(kid.len(), 16);
        assert!(!NEW.contains(&kid) && !kid.contains("secret"));
        assert_ne!(kid, key_id(&secret(OLD)));
    }

    #[test]
    fn a_previous_secret_is_accepted_until_its_instant_and_not_once_removed() {
        let old_token = service(OLD).issue(&session()).unwrap().token;
        let until = Utc::now() + chrono::Duration::minutes(5);
        let rotated =
            TokenService::rotating(&secret(NEW), &[secret(OLD)], until, Duration::from_secs(60))
                .unwrap();
        assert!(rotated.verify(&old_token).is_some(), "still configured");
        assert!(
            rotated.verify_at(&old_token, until).is_none(),
            "past its grace"
        );
        // New tokens are signed with the new secret only.
        let new_token = rotated.issue(&session()).unwrap().token;
        assert!(service(NEW).verify(&new_token).is_some());
        assert!(service(OLD).verify(&new_token).is_none());
        // The previous secret removed: its tokens name a key nobody knows.
        assert!(service(NEW).verify(&old_token).is_none());
    }

    #[test]
    fn an_unknown_kid_is_refused_even_when_the_signature_matches_a_known_secret() {
        let claims = Claims {
            user_id: UserId::new().to_string(),
            tenant_id: TenantId::new().to_string(),
            role: "OWNER".into(),
            ver: 0,
            exp: (Utc::now() + chrono::Duration::minutes(5)).timestamp(),
            iat: Utc::now().timestamp(),
        };
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some("0000000000000000".into());
        let forged = encode(
            &header,
            &claims,
            &EncodingKey::from_secret(NEW.as_bytes()).unwrap(),
        )
        .unwrap();
        assert!(service(NEW).verify(&forged).is_none());
        // The same claims without a kid are checked against the current secret.
        let legacy = encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(NEW.as_bytes()).unwrap(),
        )
        .unwrap();
        let session = service(NEW).verify(&legacy).unwrap();
        assert_eq!(session.token_version, 0);
    }
}
