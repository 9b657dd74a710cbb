//! Session tokens: HS256 JWTs carrying `{userId, tenantId, role, exp}`.
//!
//! The algorithm is pinned on verification (a token claiming `none` or RS256 is refused) and
//! `exp` is enforced with no leeway: tokens are issued and checked by the same clock.

use std::time::Duration;

use chrono::{DateTime, Utc};
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use domain::auth::models::{Role, Session};
use domain::ids::{TenantId, UserId};

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Claims {
    user_id: String,
    tenant_id: String,
    role: String,
    exp: i64,
    iat: i64,
}

/// Issues and verifies session tokens with one secret.
#[derive(Clone)]
pub struct TokenService {
    encoding: EncodingKey,
    decoding: DecodingKey,
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
    pub fn new(secret: &SecretString, ttl: Duration) -> anyhow::Result<Self> {
        let bytes = secret.expose_secret().as_bytes();
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp"]);
        Ok(Self {
            encoding: EncodingKey::from_secret(bytes)?,
            decoding: DecodingKey::from_secret(bytes)?,
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
            exp: expires_at.timestamp(),
            iat: now.timestamp(),
        };
        let token = encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)?;
        Ok(IssuedToken { token, expires_at })
    }

    /// The session of a valid token; `None` for anything else (bad signature, expired,
    /// malformed, another algorithm, claims that are not ids).
    pub fn verify(&self, token: &str) -> Option<Session> {
        self.verify_until(token).map(|(session, _)| session)
    }

    /// The session of a valid token and the moment the token expires.
    pub fn verify_until(&self, token: &str) -> Option<(Session, DateTime<Utc>)> {
        let data = decode::<Claims>(token, &self.decoding, &self.validation).ok()?;
        let c = data.claims;
        let session = Session {
            tenant_id: c.tenant_id.parse::<TenantId>().ok()?,
            user_id: c.user_id.parse::<UserId>().ok()?,
            role: Role::parse(&c.role)?,
        };
        Some((session, DateTime::from_timestamp(c.exp, 0)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(secret: &str) -> TokenService {
        TokenService::new(
            &SecretString::from(secret.to_owned()),
            Duration::from_secs(60),
        )
        .unwrap()
    }

    fn session() -> Session {
        Session {
            tenant_id: TenantId::new(),
            user_id: UserId::new(),
            role: Role::Manager,
        }
    }

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
}
