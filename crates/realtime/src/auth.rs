//! Who may connect, and to which room.
//!
//! A client passes `auth: { token }` when it connects. The namespace middleware verifies the token
//! before the socket enters the namespace: a refusal becomes a `connect_error` packet carrying the
//! reason, so a browser client sees `connect_error` with `err.message` set. An accepted socket is
//! put in its tenant's room, and only there; rooms are never chosen by the client.

use std::sync::Arc;

use domain::ids::TenantId;
use serde::Deserialize;
use socketioxide::extract::{SocketRef, State, TryData};

use crate::server::tenant_room;

/// Verifies an access token and returns the tenant it belongs to, or why it was refused
/// (the reason is sent to the client, so it must not reveal secrets).
pub type TokenVerifier = Arc<dyn Fn(&str) -> Result<TenantId, String> + Send + Sync>;

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

/// Checks the auth payload and returns the tenant whose room the socket may join.
pub(crate) fn tenant_of(
    verify: &TokenVerifier,
    auth: Result<ConnectAuth, impl std::fmt::Debug>,
) -> Result<TenantId, ConnectRefused> {
    let auth = auth.map_err(|_| ConnectRefused::MissingToken)?;
    if auth.token.is_empty() {
        return Err(ConnectRefused::MissingToken);
    }
    verify(&auth.token).map_err(ConnectRefused::InvalidToken)
}

/// Namespace middleware: verifies the token and joins the socket to its tenant's room.
pub(crate) async fn authenticate(
    socket: SocketRef,
    TryData(auth): TryData<ConnectAuth>,
    State(Verifier(verify)): State<Verifier>,
) -> Result<(), ConnectRefused> {
    match tenant_of(&verify, auth) {
        Ok(tenant) => {
            socket.join(tenant_room(&tenant));
            tracing::debug!(sid = %socket.id, %tenant, "socket authenticated");
            Ok(())
        }
        Err(refused) => {
            tracing::debug!(sid = %socket.id, %refused, "socket refused");
            Err(refused)
        }
    }
}

/// Runs once a socket is in; it registers no event handler, so clients cannot act.
pub(crate) async fn on_connect(socket: SocketRef) {
    tracing::debug!(sid = %socket.id, "socket connected");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verifier(tenant: TenantId) -> TokenVerifier {
        Arc::new(move |token| match token {
            "good" => Ok(tenant),
            _ => Err("token expired".into()),
        })
    }

    fn auth(token: &str) -> Result<ConnectAuth, ()> {
        Ok(ConnectAuth {
            token: token.into(),
        })
    }

    #[test]
    fn a_valid_token_yields_its_tenant() {
        let tenant = TenantId::new();
        assert_eq!(tenant_of(&verifier(tenant), auth("good")), Ok(tenant));
    }

    #[test]
    fn refusals_say_why() {
        let verify = verifier(TenantId::new());
        let expired = tenant_of(&verify, auth("old")).unwrap_err();
        assert_eq!(expired.to_string(), "invalid token: token expired");
        assert_eq!(
            tenant_of(&verify, auth("")),
            Err(ConnectRefused::MissingToken)
        );
        assert_eq!(
            tenant_of(&verify, Err(())),
            Err(ConnectRefused::MissingToken)
        );
        assert!(ConnectRefused::MissingToken
            .to_string()
            .starts_with("authentication required"));
    }
}
