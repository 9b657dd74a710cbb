//! Who may connect, and to which room.
//!
//! A client passes `auth: { token }` when it connects. The namespace middleware verifies the token
//! before the socket enters the namespace: a refusal becomes a `connect_error` packet carrying the
//! reason, so a browser client sees `connect_error` with `err.message` set. An accepted socket is
//! put in its tenant's room, and only there; rooms are never chosen by the client.
//!
//! A socket lives no longer than the token that opened it. Checking the token only at connect
//! would let a client keep hearing a tenant's events for as long as it holds the connection,
//! long after its access ran out, so each socket is closed when its token expires: the client
//! first hears `session.expired`, then the server disconnects it, and it must connect again with
//! a fresh token.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use domain::ids::TenantId;
use serde::Deserialize;
use socketioxide::extract::{SocketRef, State, TryData};
use tokio::sync::Notify;

use crate::server::tenant_room;

/// The event a socket hears just before it is closed because its token expired.
pub const SESSION_EXPIRED: &str = "session.expired";

/// What a valid token admits: the tenant whose room the socket joins, until when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Admission {
    pub tenant: TenantId,
    pub expires_at: DateTime<Utc>,
}

/// Verifies an access token and returns what it admits, or why it was refused (the reason is
/// sent to the client, so it must not reveal secrets).
pub type TokenVerifier = Arc<dyn Fn(&str) -> Result<Admission, String> + Send + Sync>;

/// The verifier as socketioxide state (state types must be `Clone`).
#[derive(Clone)]
pub(crate) struct Verifier(pub(crate) TokenVerifier);

/// The `auth` object a client sends with its connect packet.
#[derive(Debug, Deserialize)]
pub(crate) struct ConnectAuth {
    token: String,
}

/// Why a connection was refused; its text is what the client reads in `connect_error`.
#[derive(Debug, PartialEq, Eq)]
pub enum ConnectRefused {
    MissingToken,
    InvalidToken(String),
}

impl std::fmt::Display for ConnectRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConnectRefused::MissingToken => f.write_str(
                "authentication required: connect with auth: { token: \"<access token>\" }",
            ),
            ConnectRefused::InvalidToken(reason) => write!(f, "invalid token: {reason}"),
        }
    }
}

impl std::error::Error for ConnectRefused {}

/// Checks the auth payload and returns what its token admits.
pub(crate) fn admission_of(
    verify: &TokenVerifier,
    auth: Result<ConnectAuth, impl std::fmt::Debug>,
) -> Result<Admission, ConnectRefused> {
    let auth = auth.map_err(|_| ConnectRefused::MissingToken)?;
    if auth.token.is_empty() {
        return Err(ConnectRefused::MissingToken);
    }
    verify(&auth.token).map_err(ConnectRefused::InvalidToken)
}

/// Namespace middleware: verifies the token, joins the socket to its tenant's room and arranges
/// for it to be closed when the token expires.
pub(crate) async fn authenticate(
    socket: SocketRef,
    TryData(auth): TryData<ConnectAuth>,
    State(Verifier(verify)): State<Verifier>,
) -> Result<(), ConnectRefused> {
    match admission_of(&verify, auth) {
        Ok(admission) => {
            socket.join(tenant_room(&admission.tenant));
            close_on_expiry(&socket, admission.expires_at);
            tracing::debug!(sid = %socket.id, tenant = %admission.tenant, "socket authenticated");
            Ok(())
        }
        Err(refused) => {
            tracing::debug!(sid = %socket.id, %refused, "socket refused");
            Err(refused)
        }
    }
}

/// Closes `socket` at `expires_at`, telling it why first. The watch ends early when the socket
/// disconnects, so a closed socket leaves nothing waiting behind it.
fn close_on_expiry(socket: &SocketRef, expires_at: DateTime<Utc>) {
    let gone = Arc::new(Notify::new());
    let on_gone = gone.clone();
    // `notify_one` keeps a permit, so a disconnect before the watch starts is not missed.
    socket.on_disconnect(move || async move { on_gone.notify_one() });
    let socket = socket.clone();
    tokio::spawn(async move {
        let left = (expires_at - Utc::now()).to_std().unwrap_or_default();
        tokio::select! {
            () = gone.notified() => {}
            () = tokio::time::sleep(left) => {
                tracing::debug!(sid = %socket.id, "token expired: closing the socket");
                let notice = serde_json::json!({ "expiredAt": expires_at });
                if let Err(error) = socket.emit(SESSION_EXPIRED, &notice) {
                    tracing::debug!(sid = %socket.id, %error, "cannot send the expiry notice");
                }
                let _ = socket.disconnect();
            }
        }
    });
}

/// Runs once a socket is in; it registers no event handler, so clients cannot act.
pub(crate) async fn on_connect(socket: SocketRef) {
    tracing::debug!(sid = %socket.id, "socket connected");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verifier(admission: Admission) -> TokenVerifier {
        Arc::new(move |token| match token {
            "good" => Ok(admission),
            _ => Err("token expired".into()),
        })
    }

    fn admission() -> Admission {
        Admission {
            tenant: TenantId::new(),
            expires_at: Utc::now() + chrono::Duration::hours(1),
        }
    }

    fn auth(token: &str) -> Result<ConnectAuth, ()> {
        Ok(ConnectAuth {
            token: token.into(),
        })
    }

    #[test]
    fn a_valid_token_yields_its_admission() {
        let admitted = admission();
        assert_eq!(
            admission_of(&verifier(admitted), auth("good")),
            Ok(admitted)
        );
    }

    #[test]
    fn refusals_say_why() {
        let verify = verifier(admission());
        let expired = admission_of(&verify, auth("old")).unwrap_err();
        assert_eq!(expired.to_string(), "invalid token: token expired");
        assert_eq!(
            admission_of(&verify, auth("")),
            Err(ConnectRefused::MissingToken)
        );
        assert_eq!(
            admission_of(&verify, Err(())),
            Err(ConnectRefused::MissingToken)
        );
        assert!(ConnectRefused::MissingToken
            .to_string()
            .starts_with("authentication required"));
    }
}
