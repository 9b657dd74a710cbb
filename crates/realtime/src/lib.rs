//! Stockroom's live events over Socket.IO.
//!
//! Browsers connect to a Socket.IO server on its own port (beside the HTTP API) and are pushed the
//! events of their tenant as they happen: stock changes (per location), low stock, order,
//! purchase order and transfer updates. The design keeps tenants apart by construction:
//! - the token is verified when the socket connects ([`auth`]), its user's session too (active,
//!   token not revoked); a bad or expired one is refused with a `connect_error` saying why, and
//!   nothing else about the server is revealed; a socket whose user's session ends later is
//!   closed ([`Realtime::session_listener`]);
//! - an accepted socket joins exactly one room, `tenant:{tenantId}`, taken from the verified token,
//!   and there is no client-driven join: the server ignores every event a client sends;
//! - every event is emitted to its own tenant's room only ([`Realtime::emit`]).
//!
//! Token verification comes in as a function, so this crate knows nothing of JWTs or of the API.
//! Events are translated to the wire format in one place ([`wire::to_wire`]). With several API
//! instances, [`FanoutPublisher`] carries every event through the domain's
//! [`domain::events::EventFanout`] port to every instance, so a client hears about changes made
//! through any of them; the API wires the adapter behind the port (Redis), so this crate depends
//! on no storage or messaging adapter.

pub mod auth;
mod origin;
mod publisher;
mod server;
pub mod wire;

pub use auth::{Admission, TokenVerifier, SESSION_ENDED, SESSION_EXPIRED};
pub use publisher::{FanoutPublisher, SocketPublisher};
pub use server::{serve, serve_with, tenant_room, Realtime, RealtimeService, ServeLimits};
pub use wire::{to_wire, WireEvent};
