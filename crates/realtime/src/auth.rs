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
//!
//! Nor does a socket outlive its user's session: the verifier checks the user too (active, and
//! the token not revoked by a password change or a deactivation), and when the domain announces
//! that a user's session changed — on this instance or another — [`Realtime`] checks each of
//! that user's sockets here again ([`SessionSink::forget`]); a socket whose token no longer
//! passes hears `session.ended` and is disconnected.
//!
//! [`Realtime`]: crate::Realtime

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use domain::auth::ports::SessionSink;
use domain::ids::{TenantId, UserId};
use futures::future::BoxFuture;
use serde::Deserialize;
use socketioxide::extract::{SocketRef, State, TryData};
use socketioxide::socket::Sid;
use socketioxide::SocketIo;
use tokio::sync::Notify;

use crate::server::tenant_room;

/// The event a socket hears just before it is closed because its token expired.
pub const SESSION_EXPIRED: &str = "session.expired";
/// The event a socket hears just before it is closed because its user's session ended
/// (deactivated, password changed).
pub const SESSION_ENDED: &str = "session.ended";

/// What a valid token admits: the tenant whose room the socket joins, whose session it is,
/// until when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Admission {
    pub tenant: TenantId,
    pub user: UserId,
    pub expires_at: DateTime<Utc>,
}

/// Verifies an access token — its signature and expiry, and that its user's session still
/// stands — and returns what it admits, or why it was refused (the reason is sent to the
/// client, so it must not reveal secrets). Asynchronous: checking the user may read a store.
pub type TokenVerifier =
    Arc<dyn Fn(&str) -> BoxFuture<'static, Result<Admission, String>> + Send + Sync>;

/// The verifier as socketioxide state (state types must be `Clone`).
#[derive(Clone)]
pub(crate) struct Verifier(pub(crate) TokenVerifier);

/// The tokens of the open sockets of this instance, by user, so that a user's sockets can be
/// checked again when their session changes.
#[derive(Clone, Default)]
pub(crate) struct OpenSessions(Arc<Mutex<ByUser>>);

/// The token of each open socket, by the user whose session it is.
type ByUser = HashMap<(TenantId, UserId), HashMap<Sid, String>>;

impl OpenSessions {
    fn lock(&self) -> std::sync::MutexGuard<'_, ByUser> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn open(&self, admission: &Admission, sid: Sid, token: String) {
        self.lock()
            .entry((admission.tenant, admission.user))
            .or_default()
            .insert(sid, token);
    }

    fn close(&self, tenant: TenantId, user: UserId, sid: Sid) {
        let mut open = self.lock();
        if let Some(sockets) = open.get_mut(&(tenant, user)) {
            sockets.remove(&sid);
            if sockets.is_empty() {
                open.remove(&(tenant, user));
            }
        }
    }

    fn of(&self, tenant: TenantId, user: UserId) -> Vec<(Sid, String)> {
        self.lock()
            .get(&(tenant, user))
            .map(|sockets| sockets.iter().map(|(sid, t)| (*sid, t.clone())).collect())
            .unwrap_or_default()
    }
}

/// Checks the sockets of one user again and closes those whose token no longer passes.
#[derive(Clone)]
pub(crate) struct Recheck {
    pub(crate) io: SocketIo,
    pub(crate) verify: TokenVerifier,
    pub(crate) open: OpenSessions,
}

impl Recheck {
    pub(crate) async fn user(&self, tenant: TenantId, user: UserId) {
        for (sid, token) in self.open.of(tenant, user) {
            let Err(reason) = (self.verify)(&token).await else {
                continue;
            };
            let Some(socket) = self.io.get_socket(sid) else {
                self.open.close(tenant, user, sid);
                continue;
            };
            tracing::debug!(%sid, %tenant, %user, %reason, "session ended: closing the socket");
            let notice = serde_json::json!({ "reason": reason });
            if let Err(error) = socket.emit(SESSION_ENDED, &notice) {
                tracing::debug!(%sid, %error, "cannot send the session-ended notice");
            }
            let _ = socket.disconnect();
        }
    }
}

impl SessionSink for Recheck {
    /// Called by the domain for every changed session; the check reads the store, so it runs
    /// on its own task.
    fn forget(&self, tenant: &TenantId, user: &UserId) {
        if self.open.of(*tenant, *user).is_empty() {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::warn!(%tenant, %user, "no runtime to check a changed session's sockets on");
            return;
        };
        let (recheck, tenant, user) = (self.clone(), *tenant, *user);
        runtime.spawn(async move { recheck.user(tenant, user).await });
    }
}

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

/// Checks the auth payload and returns what its token admits, with the token.
pub(crate) async fn admission_of(
    verify: &TokenVerifier,
    auth: Result<ConnectAuth, impl std::fmt::Debug>,
) -> Result<(Admission, String), ConnectRefused> {
    let auth = auth.map_err(|_| ConnectRefused::MissingToken)?;
    if auth.token.is_empty() {
        return Err(ConnectRefused::MissingToken);
    }
    let admission = verify(&auth.token)
        .await
        .map_err(ConnectRefused::InvalidToken)?;
    Ok((admission, auth.token))
}

/// Namespace middleware: verifies the token, joins the socket to its tenant's room, keeps its
/// token for checking again ([`Recheck`]) and arranges for it to be closed when the token
/// expires.
pub(crate) async fn authenticate(
    socket: SocketRef,
    TryData(auth): TryData<ConnectAuth>,
    State(Verifier(verify)): State<Verifier>,
    State(open): State<OpenSessions>,
) -> Result<(), ConnectRefused> {
    match admission_of(&verify, auth).await {
        Ok((admission, token)) => {
            socket.join(tenant_room(&admission.tenant));
            open.open(&admission, socket.id, token);
            let (tenant, user, sid) = (admission.tenant, admission.user, socket.id);
            socket.on_disconnect(move || async move { open.close(tenant, user, sid) });
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
    use futures::FutureExt;

    fn verifier(admission: Admission) -> TokenVerifier {
        Arc::new(move |token| {
            let answer = match token {
                "good" => Ok(admission),
                _ => Err("token expired".into()),
            };
            async move { answer }.boxed()
        })
    }

    fn admission() -> Admission {
        Admission {
            tenant: TenantId::new(),
            user: UserId::new(),
            expires_at: Utc::now() + chrono::Duration::hours(1),
        }
    }

    fn auth(token: &str) -> Result<ConnectAuth, ()> {
        Ok(ConnectAuth {
            token: token.into(),
        })
    }

    #[tokio::test]
    async fn a_valid_token_yields_its_admission() {
        let admitted = admission();
        assert_eq!(
            admission_of(&verifier(admitted), auth("good")).await,
            Ok((admitted, "good".to_owned()))
        );
    }

    #[tokio::test]
    async fn refusals_say_why() {
        let verify = verifier(admission());
        let expired = admission_of(&verify, auth("old")).await.unwrap_err();
        assert_eq!(expired.to_string(), "invalid token: token expired");
        assert_eq!(
            admission_of(&verify, auth("")).await,
            Err(ConnectRefused::MissingToken)
        );
        assert_eq!(
            admission_of(&verify, Err(())).await,
            Err(ConnectRefused::MissingToken)
        );
        assert!(ConnectRefused::MissingToken
            .to_string()
            .starts_with("authentication required"));
    }

    #[test]
    fn open_sessions_are_kept_per_user_and_dropped_on_close() {
        let open = OpenSessions::default();
        let a = admission();
        let sid = Sid::new();
        open.open(&a, sid, "t".into());
        assert_eq!(open.of(a.tenant, a.user), vec![(sid, "t".to_owned())]);
        assert!(open.of(a.tenant, UserId::new()).is_empty());
        open.close(a.tenant, a.user, sid);
        assert!(open.of(a.tenant, a.user).is_empty());
        assert!(open.lock().is_empty());
    }
}
