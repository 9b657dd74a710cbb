//! The wire format of events: what a Socket.IO client receives.
//!
//! Each event is emitted under its name (e.g. `stock.changed`) with one camelCase JSON object that
//! always carries `tenantId` and `at` (RFC 3339, UTC, milliseconds). The mapping from
//! [`DomainEvent`] lives in [`to_wire`] alone, so the documented format has one source. A
//! [`WireEvent`] is itself serializable, which is how it travels between instances through Redis.

use chrono::{DateTime, SecondsFormat, Utc};
use domain::events::DomainEvent;
use domain::ids::TenantId;
use domain::stock::state::Unavailable;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// An event ready to emit: its name, the tenant whose room receives it, and its JSON payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WireEvent {
    pub name: String,
    pub tenant_id: TenantId,
    pub payload: Value,
}

fn timestamp(at: &DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Units on hand but not for sale, by state: `{damaged, qualityControl, safetyStock}`.
fn unavailable_by(u: &Unavailable) -> Value {
    json!({
        "damaged": u.damaged,
        "qualityControl": u.quality_control,
        "safetyStock": u.safety_stock,
    })
}

/// Translates a domain event into the event clients receive.
pub fn to_wire(event: &DomainEvent) -> WireEvent {
    let payload = match event {
        DomainEvent::StockChanged {
            tenant_id,
            variant_id,
            location_id,
            sku,
            total,
            level,
            delta,
            movement,
            order_id,
            reservation_id,
            at,
        } => json!({
            "tenantId": tenant_id,
            "variantId": variant_id,
            "locationId": location_id,
            "sku": sku,
            "stock": total.available(),
            "onHand": total.on_hand,
            "committed": total.claims.committed,
            "reserved": total.claims.reserved,
            "unavailable": total.claims.unavailable.sum(),
            "unavailableBy": unavailable_by(&total.claims.unavailable),
            "levelStock": level.available(),
            "levelOnHand": level.on_hand,
            "levelCommitted": level.claims.committed,
            "levelReserved": level.claims.reserved,
            "levelUnavailable": level.claims.unavailable.sum(),
            "levelUnavailableBy": unavailable_by(&level.claims.unavailable),
            "delta": delta,
            "movementType": movement.map(|(kind, _)| kind.as_str()),
            "movementId": movement.map(|(_, id)| id),
            "orderId": order_id,
            "reservationId": reservation_id,
            "at": timestamp(at),
        }),
        DomainEvent::StockLow {
            tenant_id,
            variant_id,
            location_id,
            sku,
            stock,
            reorder_level,
            at,
        } => json!({
            "tenantId": tenant_id,
            "variantId": variant_id,
            "locationId": location_id,
            "sku": sku,
            "stock": stock,
            "reorderLevel": reorder_level,
            "at": timestamp(at),
        }),
        DomainEvent::OrderPlaced {
            tenant_id,
            order_id,
            total,
            at,
        } => json!({
            "tenantId": tenant_id,
            "orderId": order_id,
            "total": total.minor_units(),
            "at": timestamp(at),
        }),
        DomainEvent::OrderCancelled {
            tenant_id,
            order_id,
            at,
        }
        | DomainEvent::OrderFulfilled {
            tenant_id,
            order_id,
            at,
        } => json!({
            "tenantId": tenant_id,
            "orderId": order_id,
            "at": timestamp(at),
        }),
        DomainEvent::PurchaseOrderReceived {
            tenant_id,
            purchase_order_id,
            location_id,
            status,
            at,
        } => json!({
            "tenantId": tenant_id,
            "purchaseOrderId": purchase_order_id,
            "locationId": location_id,
            "status": status,
            "at": timestamp(at),
        }),
        DomainEvent::TransferShipped {
            tenant_id,
            transfer_id,
            from_location_id,
            to_location_id,
            units,
            at,
        } => json!({
            "tenantId": tenant_id,
            "transferId": transfer_id,
            "fromLocationId": from_location_id,
            "toLocationId": to_location_id,
            "units": units,
            "at": timestamp(at),
        }),
        DomainEvent::TransferReceived {
            tenant_id,
            transfer_id,
            from_location_id,
            to_location_id,
            units,
            status,
            at,
        } => json!({
            "tenantId": tenant_id,
            "transferId": transfer_id,
            "fromLocationId": from_location_id,
            "toLocationId": to_location_id,
            "units": units,
            "status": status,
            "at": timestamp(at),
        }),
        DomainEvent::ReservationCreated {
            tenant_id,
            reservation_id,
            units,
            expires_at,
            at,
        } => json!({
            "tenantId": tenant_id,
            "reservationId": reservation_id,
            "units": units,
            "expiresAt": timestamp(expires_at),
            "at": timestamp(at),
        }),
        DomainEvent::ReservationConfirmed {
            tenant_id,
            reservation_id,
            order_id,
            at,
        } => json!({
            "tenantId": tenant_id,
            "reservationId": reservation_id,
            "orderId": order_id,
            "at": timestamp(at),
        }),
        DomainEvent::ReservationReleased {
            tenant_id,
            reservation_id,
            at,
        } => json!({
            "tenantId": tenant_id,
            "reservationId": reservation_id,
            "at": timestamp(at),
        }),
        DomainEvent::ReservationExtended {
            tenant_id,
            reservation_id,
            expires_at,
            at,
        } => json!({
            "tenantId": tenant_id,
            "reservationId": reservation_id,
            "expiresAt": timestamp(expires_at),
            "at": timestamp(at),
        }),
        DomainEvent::ReservationExpired {
            tenant_id,
            reservation_id,
            expired_at,
            at,
        } => json!({
            "tenantId": tenant_id,
            "reservationId": reservation_id,
            "expiredAt": timestamp(expired_at),
            "at": timestamp(at),
        }),
    };
    WireEvent {
        name: event.name().to_owned(),
        tenant_id: *event.tenant_id(),
        payload,
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use domain::ids::{
        LocationId, MovementId, OrderId, PurchaseOrderId, ReservationId, TransferId, VariantId,
    };
    use domain::stock::models::MovementKind;
    use domain::stock::state::{Claims, StockState};
    use domain::values::{Money, Sku};

    use super::*;

    fn at() -> DateTime<Utc> {
        Utc.timestamp_millis_opt(1_717_243_200_123).unwrap()
    }

    #[test]
    fn stock_changed_carries_every_field_in_camel_case() {
        let (tenant, variant, movement) = (TenantId::new(), VariantId::new(), MovementId::new());
        let (location, order) = (LocationId::new(), OrderId::new());
        let unavailable = Unavailable {
            damaged: 1,
            quality_control: 2,
            safety_stock: 0,
        };
        let wire = to_wire(&DomainEvent::StockChanged {
            tenant_id: tenant,
            variant_id: variant,
            location_id: location,
            sku: Sku::new("TSHIRT-RED-M").unwrap(),
            total: StockState::new(
                12,
                Claims {
                    committed: 2,
                    reserved: 1,
                    unavailable,
                },
            ),
            level: StockState::new(
                6,
                Claims {
                    committed: 2,
                    reserved: 0,
                    unavailable: Unavailable {
                        damaged: 1,
                        ..Unavailable::default()
                    },
                },
            ),
            delta: -3,
            movement: Some((MovementKind::Sale, movement)),
            order_id: Some(order),
            reservation_id: None,
            at: at(),
        });
        assert_eq!(wire.name, "stock.changed");
        assert_eq!(wire.tenant_id, tenant);
        assert_eq!(
            wire.payload,
            json!({
                "tenantId": tenant.to_string(),
                "variantId": variant.to_string(),
                "locationId": location.to_string(),
                "sku": "TSHIRT-RED-M",
                "stock": 6,
                "onHand": 12,
                "committed": 2,
                "reserved": 1,
                "unavailable": 3,
                "unavailableBy": {"damaged": 1, "qualityControl": 2, "safetyStock": 0},
                "levelStock": 3,
                "levelOnHand": 6,
                "levelCommitted": 2,
                "levelReserved": 0,
                "levelUnavailable": 1,
                "levelUnavailableBy": {"damaged": 1, "qualityControl": 0, "safetyStock": 0},
                "delta": -3,
                "movementType": "SALE",
                "movementId": movement.to_string(),
                "orderId": order.to_string(),
                "reservationId": null,
                "at": "2024-06-01T12:00:00.123Z",
            })
        );
    }

    #[test]
    fn a_hold_is_a_change_without_a_movement_naming_its_reservation() {
        let reservation = ReservationId::new();
        let held = StockState::new(
            10,
            Claims {
                reserved: 4,
                ..Claims::default()
            },
        );
        let wire = to_wire(&DomainEvent::StockChanged {
            tenant_id: TenantId::new(),
            variant_id: VariantId::new(),
            location_id: LocationId::new(),
            sku: Sku::new("MUG").unwrap(),
            total: held,
            level: held,
            delta: 0,
            movement: None,
            order_id: None,
            reservation_id: Some(reservation),
            at: at(),
        });
        assert_eq!(wire.payload["stock"], json!(6));
        assert_eq!(wire.payload["reserved"], json!(4));
        assert_eq!(wire.payload["levelReserved"], json!(4));
        assert_eq!(wire.payload["unavailable"], json!(0));
        assert_eq!(wire.payload["movementType"], json!(null));
        assert_eq!(wire.payload["orderId"], json!(null));
        assert_eq!(
            wire.payload["reservationId"],
            json!(reservation.to_string())
        );
    }

    #[test]
    fn a_move_between_states_shows_each_state_it_left_and_entered() {
        let level = StockState::new(
            10,
            Claims {
                unavailable: Unavailable {
                    damaged: 0,
                    quality_control: 3,
                    safety_stock: 2,
                },
                ..Claims::default()
            },
        );
        let wire = to_wire(&DomainEvent::StockChanged {
            tenant_id: TenantId::new(),
            variant_id: VariantId::new(),
            location_id: LocationId::new(),
            sku: Sku::new("MUG").unwrap(),
            total: level,
            level,
            delta: 0,
            movement: Some((MovementKind::Move, MovementId::new())),
            order_id: None,
            reservation_id: None,
            at: at(),
        });
        assert_eq!(wire.payload["movementType"], json!("MOVE"));
        assert_eq!(wire.payload["delta"], json!(0));
        assert_eq!(wire.payload["onHand"], json!(10));
        assert_eq!(wire.payload["stock"], json!(5));
        assert_eq!(wire.payload["unavailable"], json!(5));
        assert_eq!(
            wire.payload["levelUnavailableBy"],
            json!({"damaged": 0, "qualityControl": 3, "safetyStock": 2})
        );
    }

    #[test]
    fn transfer_movements_keep_their_kind_on_the_wire() {
        let wire = to_wire(&DomainEvent::StockChanged {
            tenant_id: TenantId::new(),
            variant_id: VariantId::new(),
            location_id: LocationId::new(),
            sku: Sku::new("MUG").unwrap(),
            total: StockState::new(10, Claims::default()),
            level: StockState::new(0, Claims::default()),
            delta: -4,
            movement: Some((MovementKind::TransferOut, MovementId::new())),
            order_id: None,
            reservation_id: None,
            at: at(),
        });
        assert_eq!(wire.payload["movementType"], json!("TRANSFER_OUT"));
        assert_eq!(wire.payload["stock"], json!(10));
        assert_eq!(wire.payload["levelStock"], json!(0));
        assert_eq!(wire.payload["orderId"], json!(null));
    }

    #[test]
    fn a_commitment_is_a_change_without_a_movement() {
        let order = OrderId::new();
        let wire = to_wire(&DomainEvent::StockChanged {
            tenant_id: TenantId::new(),
            variant_id: VariantId::new(),
            location_id: LocationId::new(),
            sku: Sku::new("MUG").unwrap(),
            total: StockState::new(10, Claims::committed(3)),
            level: StockState::new(10, Claims::committed(3)),
            delta: 0,
            movement: None,
            order_id: Some(order),
            reservation_id: None,
            at: at(),
        });
        assert_eq!(wire.payload["stock"], json!(7));
        assert_eq!(wire.payload["committed"], json!(3));
        assert_eq!(wire.payload["delta"], json!(0));
        assert_eq!(wire.payload["movementType"], json!(null));
        assert_eq!(wire.payload["movementId"], json!(null));
        assert_eq!(wire.payload["orderId"], json!(order.to_string()));
    }

    #[test]
    fn stock_low_names_the_reorder_level_and_the_location() {
        let (tenant, variant, location) = (TenantId::new(), VariantId::new(), LocationId::new());
        let wire = to_wire(&DomainEvent::StockLow {
            tenant_id: tenant,
            variant_id: variant,
            location_id: location,
            sku: Sku::new("MUG").unwrap(),
            stock: 2,
            reorder_level: 5,
            at: at(),
        });
        assert_eq!(wire.name, "stock.low");
        assert_eq!(
            wire.payload,
            json!({
                "tenantId": tenant.to_string(),
                "variantId": variant.to_string(),
                "locationId": location.to_string(),
                "sku": "MUG",
                "stock": 2,
                "reorderLevel": 5,
                "at": "2024-06-01T12:00:00.123Z",
            })
        );
    }

    #[test]
    fn order_and_purchase_order_events_map_to_their_names_and_fields() {
        let (tenant, order, po) = (TenantId::new(), OrderId::new(), PurchaseOrderId::new());
        let placed = to_wire(&DomainEvent::OrderPlaced {
            tenant_id: tenant,
            order_id: order,
            total: Money::new(12_345).unwrap(),
            at: at(),
        });
        assert_eq!(placed.name, "order.placed");
        assert_eq!(placed.payload["total"], json!(12_345));
        assert_eq!(placed.payload["orderId"], json!(order.to_string()));

        let cancelled = to_wire(&DomainEvent::OrderCancelled {
            tenant_id: tenant,
            order_id: order,
            at: at(),
        });
        assert_eq!(cancelled.name, "order.cancelled");
        let fulfilled = to_wire(&DomainEvent::OrderFulfilled {
            tenant_id: tenant,
            order_id: order,
            at: at(),
        });
        assert_eq!(fulfilled.name, "order.fulfilled");
        for wire in [&cancelled, &fulfilled] {
            assert_eq!(
                wire.payload,
                json!({
                    "tenantId": tenant.to_string(),
                    "orderId": order.to_string(),
                    "at": "2024-06-01T12:00:00.123Z",
                })
            );
        }

        let location = LocationId::new();
        let received = to_wire(&DomainEvent::PurchaseOrderReceived {
            tenant_id: tenant,
            purchase_order_id: po,
            location_id: location,
            status: "PARTIALLY_RECEIVED",
            at: at(),
        });
        assert_eq!(received.name, "purchaseOrder.received");
        assert_eq!(
            received.payload,
            json!({
                "tenantId": tenant.to_string(),
                "purchaseOrderId": po.to_string(),
                "locationId": location.to_string(),
                "status": "PARTIALLY_RECEIVED",
                "at": "2024-06-01T12:00:00.123Z",
            })
        );
    }

    #[test]
    fn transfer_events_name_both_ends_and_the_units() {
        let (tenant, transfer) = (TenantId::new(), TransferId::new());
        let (from, to) = (LocationId::new(), LocationId::new());
        let shipped = to_wire(&DomainEvent::TransferShipped {
            tenant_id: tenant,
            transfer_id: transfer,
            from_location_id: from,
            to_location_id: to,
            units: 12,
            at: at(),
        });
        assert_eq!(shipped.name, "transfer.shipped");
        assert_eq!(shipped.tenant_id, tenant);
        assert_eq!(
            shipped.payload,
            json!({
                "tenantId": tenant.to_string(),
                "transferId": transfer.to_string(),
                "fromLocationId": from.to_string(),
                "toLocationId": to.to_string(),
                "units": 12,
                "at": "2024-06-01T12:00:00.123Z",
            })
        );

        let received = to_wire(&DomainEvent::TransferReceived {
            tenant_id: tenant,
            transfer_id: transfer,
            from_location_id: from,
            to_location_id: to,
            units: 5,
            status: "PARTIALLY_RECEIVED",
            at: at(),
        });
        assert_eq!(received.name, "transfer.received");
        assert_eq!(
            received.payload,
            json!({
                "tenantId": tenant.to_string(),
                "transferId": transfer.to_string(),
                "fromLocationId": from.to_string(),
                "toLocationId": to.to_string(),
                "units": 5,
                "status": "PARTIALLY_RECEIVED",
                "at": "2024-06-01T12:00:00.123Z",
            })
        );
    }

    #[test]
    fn reservation_events_name_the_reservation_and_what_happened_to_it() {
        let (tenant, reservation, order) = (TenantId::new(), ReservationId::new(), OrderId::new());
        let expires = Utc.timestamp_millis_opt(1_717_244_100_456).unwrap();
        let stamp = "2024-06-01T12:00:00.123Z";
        let expiry = "2024-06-01T12:15:00.456Z";

        let created = to_wire(&DomainEvent::ReservationCreated {
            tenant_id: tenant,
            reservation_id: reservation,
            units: 3,
            expires_at: expires,
            at: at(),
        });
        assert_eq!(created.name, "reservation.created");
        assert_eq!(created.tenant_id, tenant);
        assert_eq!(
            created.payload,
            json!({
                "tenantId": tenant.to_string(),
                "reservationId": reservation.to_string(),
                "units": 3,
                "expiresAt": expiry,
                "at": stamp,
            })
        );

        let confirmed = to_wire(&DomainEvent::ReservationConfirmed {
            tenant_id: tenant,
            reservation_id: reservation,
            order_id: order,
            at: at(),
        });
        assert_eq!(confirmed.name, "reservation.confirmed");
        assert_eq!(
            confirmed.payload,
            json!({
                "tenantId": tenant.to_string(),
                "reservationId": reservation.to_string(),
                "orderId": order.to_string(),
                "at": stamp,
            })
        );

        let released = to_wire(&DomainEvent::ReservationReleased {
            tenant_id: tenant,
            reservation_id: reservation,
            at: at(),
        });
        assert_eq!(released.name, "reservation.released");
        assert_eq!(
            released.payload,
            json!({
                "tenantId": tenant.to_string(),
                "reservationId": reservation.to_string(),
                "at": stamp,
            })
        );

        let extended = to_wire(&DomainEvent::ReservationExtended {
            tenant_id: tenant,
            reservation_id: reservation,
            expires_at: expires,
            at: at(),
        });
        assert_eq!(extended.name, "reservation.extended");
        assert_eq!(
            extended.payload,
            json!({
                "tenantId": tenant.to_string(),
                "reservationId": reservation.to_string(),
                "expiresAt": expiry,
                "at": stamp,
            })
        );

        let expired = to_wire(&DomainEvent::ReservationExpired {
            tenant_id: tenant,
            reservation_id: reservation,
            expired_at: expires,
            at: at(),
        });
        assert_eq!(expired.name, "reservation.expired");
        assert_eq!(
            expired.payload,
            json!({
                "tenantId": tenant.to_string(),
                "reservationId": reservation.to_string(),
                "expiredAt": expiry,
                "at": stamp,
            })
        );
    }

    #[test]
    fn a_wire_event_survives_a_round_trip_through_json() {
        let wire = to_wire(&DomainEvent::OrderCancelled {
            tenant_id: TenantId::new(),
            order_id: OrderId::new(),
            at: at(),
        });
        let bytes = serde_json::to_vec(&wire).unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.contains("\"tenantId\""), "{text}");
        assert_eq!(serde_json::from_slice::<WireEvent>(&bytes).unwrap(), wire);
    }
}
