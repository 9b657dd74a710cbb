-- Unavailable states, reservations and their holds.
--
-- A level keeps, beside on hand (`stock`) and `committed`, the units on hand that are not for
-- sale: `damaged`, `quality_control` and `safety_stock`. Like `committed` they are changed only
-- by the ledger's conditional update; the CHECKs are a last line of defence. Every level written
-- before this holds 0 of each.
ALTER TABLE stock_levels ADD COLUMN damaged INTEGER NOT NULL DEFAULT 0 CHECK (damaged >= 0);
ALTER TABLE stock_levels ADD COLUMN quality_control INTEGER NOT NULL DEFAULT 0
    CHECK (quality_control >= 0);
ALTER TABLE stock_levels ADD COLUMN safety_stock INTEGER NOT NULL DEFAULT 0
    CHECK (safety_stock >= 0);

-- The ledger records how each unavailable state moved with a movement (Σ over a level's
-- movements is what the level holds in that state), and gains the MOVE kind (units moved between
-- states, on hand unchanged). Rebuilt rather than altered, as in 0002: SQLite cannot change a
-- CHECK in place. Every movement recorded before this moved no unavailable state.
CREATE TABLE stock_movements_v3 (
    id                 TEXT    NOT NULL PRIMARY KEY,
    tenant_id          TEXT    NOT NULL,
    variant_id         TEXT    NOT NULL,
    location_id        TEXT    NOT NULL,
    kind               TEXT    NOT NULL CHECK (kind IN ('PURCHASE', 'SALE', 'ADJUSTMENT', 'RETURN',
                                                        'TRANSFER_OUT', 'TRANSFER_IN', 'MOVE')),
    quantity           INTEGER NOT NULL,
    -- The level's on hand after the movement.
    stock_after        INTEGER NOT NULL,
    reason             TEXT,
    order_id           TEXT,
    purchase_order_id  TEXT,
    transfer_id        TEXT,
    unit_cost          INTEGER,
    actor              TEXT    NOT NULL,
    created_at         INTEGER NOT NULL,
    damaged            INTEGER NOT NULL DEFAULT 0,
    quality_control    INTEGER NOT NULL DEFAULT 0,
    safety_stock       INTEGER NOT NULL DEFAULT 0
) STRICT;

INSERT INTO stock_movements_v3 (id, tenant_id, variant_id, location_id, kind, quantity,
                                stock_after, reason, order_id, purchase_order_id, transfer_id,
                                unit_cost, actor, created_at)
SELECT id, tenant_id, variant_id, location_id, kind, quantity, stock_after, reason, order_id,
       purchase_order_id, transfer_id, unit_cost, actor, created_at
  FROM stock_movements;

DROP TABLE stock_movements;
ALTER TABLE stock_movements_v3 RENAME TO stock_movements;
CREATE INDEX movements_by_tenant ON stock_movements (tenant_id, id);
CREATE INDEX movements_by_variant ON stock_movements (tenant_id, variant_id, created_at);
CREATE INDEX movements_by_time ON stock_movements (tenant_id, created_at);

-- Reservations: checkout holds, written only through the ledger together with their holds. A
-- reservation's lines never change once it is placed and are only read with it (and by the
-- audit), so they are a JSON array in its row: [{"variant_id", "sku", "quantity",
-- "allocations": [{"location_id", "quantity"}]}]. `status` is as stored: an expired reservation
-- stays ACTIVE until a sweep stores EXPIRED.
CREATE TABLE reservations (
    id          TEXT    NOT NULL PRIMARY KEY,
    tenant_id   TEXT    NOT NULL,
    status      TEXT    NOT NULL CHECK (status IN ('ACTIVE', 'CONFIRMED', 'RELEASED', 'EXPIRED')),
    lines       TEXT    NOT NULL,
    reference   TEXT,
    expires_at  INTEGER NOT NULL,
    order_id    TEXT,
    created_by  TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    version     INTEGER NOT NULL
) STRICT;
-- A tenant's reservations, newest first, and those stored in one status.
CREATE INDEX reservations_by_tenant ON reservations (tenant_id, id);
CREATE INDEX reservations_by_status ON reservations (tenant_id, status, id);
-- The sweep: every tenant's ACTIVE reservations, earliest expiry first.
CREATE INDEX reservations_by_expiry ON reservations (status, expires_at);

-- The holds of reservations, one per reservation and level. A hold counts in its level's
-- reserved units only while `expires_at` (milliseconds) is after the instant of the read or the
-- write, so expiry needs no write; the sweep removes expired holds later. No foreign keys, like
-- the levels: a hold is removed by the ledger (or with its variant) explicitly.
CREATE TABLE holds (
    tenant_id       TEXT    NOT NULL,
    reservation_id  TEXT    NOT NULL,
    variant_id      TEXT    NOT NULL,
    location_id     TEXT    NOT NULL,
    quantity        INTEGER NOT NULL CHECK (quantity > 0),
    expires_at      INTEGER NOT NULL,
    PRIMARY KEY (reservation_id, variant_id, location_id)
) STRICT, WITHOUT ROWID;
-- A level's live holds (and a variant's, without the location): one range of this index, which
-- carries the quantity so that summing them reads nothing else.
CREATE INDEX holds_by_level ON holds (tenant_id, variant_id, location_id, expires_at, quantity);
