-- Stock per location.
--
-- Stock is kept per level (one variant at one location, `stock_levels`); `variants.stock` stays
-- as the variant's total, changed by the ledger in the same transaction as the level. Every
-- tenant gets a default location and everything that existed before is moved to it: the stock
-- becomes the default location's level, movements, purchase orders and order lines point at it.
-- Nothing changes for a client that never names a location.

CREATE TABLE locations (
    id          TEXT    NOT NULL PRIMARY KEY,
    tenant_id   TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    code        TEXT    NOT NULL,
    -- Exactly one per tenant. Not a partial unique index: SQLite checks uniqueness row by row,
    -- which would refuse the single UPDATE that moves the default from one row to another.
    is_default  INTEGER NOT NULL CHECK (is_default IN (0, 1)),
    active      INTEGER NOT NULL CHECK (active IN (0, 1)),
    priority    INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    UNIQUE (tenant_id, code),
    UNIQUE (tenant_id, id)
) STRICT;

-- The default location of every tenant that has data. A tenant's rows may exist without its
-- tenant row only in stores written by tests; they are moved all the same, so no row is left
-- without a location. The id is shaped like a UUIDv7 of the tenant's creation time, so the
-- default sorts before every location created since (locations list oldest first, by id).
WITH owners(tenant_id) AS (
    SELECT id FROM tenants
    UNION SELECT tenant_id FROM variants
    UNION SELECT tenant_id FROM stock_movements
    UNION SELECT tenant_id FROM purchase_orders
    UNION SELECT tenant_id FROM orders
),
born(tenant_id, created_at) AS (
    SELECT o.tenant_id, COALESCE(t.created_at, 0)
      FROM owners o LEFT JOIN tenants t ON t.id = o.tenant_id
)
INSERT INTO locations (id, tenant_id, name, code, is_default, active, priority, created_at,
                       updated_at)
SELECT substr(printf('%012x', created_at), 1, 8) || '-' || substr(printf('%012x', created_at), 9, 4)
           || '-7' || substr(lower(hex(randomblob(2))), 2)
           || '-' || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(lower(hex(randomblob(2))), 2)
           || '-' || lower(hex(randomblob(6))),
       tenant_id, 'Main', 'MAIN', 1, 1, 0, created_at, created_at
  FROM born;

-- One row per level. No foreign keys: a level is deleted with its variant explicitly, and the
-- primary key is the key of the ledger's conditional write.
CREATE TABLE stock_levels (
    tenant_id    TEXT    NOT NULL,
    variant_id   TEXT    NOT NULL,
    location_id  TEXT    NOT NULL,
    -- Changed only by the ledger's conditional update; the CHECK is a last line of defence.
    stock        INTEGER NOT NULL CHECK (stock >= 0),
    PRIMARY KEY (tenant_id, variant_id, location_id)
) STRICT, WITHOUT ROWID;
-- Serves a location's levels and holdings.
CREATE INDEX stock_levels_by_location ON stock_levels (tenant_id, location_id, variant_id);

INSERT INTO stock_levels (tenant_id, variant_id, location_id, stock)
SELECT v.tenant_id, v.id, l.id, v.stock
  FROM variants v
  JOIN locations l ON l.tenant_id = v.tenant_id AND l.is_default = 1
 WHERE v.stock <> 0
    OR EXISTS (SELECT 1 FROM stock_movements m
                WHERE m.tenant_id = v.tenant_id AND m.variant_id = v.id);

-- The ledger gains the level's location and the transfer a movement belongs to. Rebuilt rather
-- than altered: the location is required and the kinds gain TRANSFER_OUT and TRANSFER_IN, and
-- SQLite alters neither a NOT NULL nor a CHECK in place. Nothing references this table.
CREATE TABLE stock_movements_v2 (
    id                 TEXT    NOT NULL PRIMARY KEY,
    tenant_id          TEXT    NOT NULL,
    variant_id         TEXT    NOT NULL,
    location_id        TEXT    NOT NULL,
    kind               TEXT    NOT NULL CHECK (kind IN ('PURCHASE', 'SALE', 'ADJUSTMENT', 'RETURN',
                                                        'TRANSFER_OUT', 'TRANSFER_IN')),
    quantity           INTEGER NOT NULL,
    -- The level's stock after the movement.
    stock_after        INTEGER NOT NULL,
    reason             TEXT,
    order_id           TEXT,
    purchase_order_id  TEXT,
    transfer_id        TEXT,
    unit_cost          INTEGER,
    actor              TEXT    NOT NULL,
    created_at         INTEGER NOT NULL
) STRICT;

INSERT INTO stock_movements_v2 (id, tenant_id, variant_id, location_id, kind, quantity,
                                stock_after, reason, order_id, purchase_order_id, transfer_id,
                                unit_cost, actor, created_at)
SELECT m.id, m.tenant_id, m.variant_id, l.id, m.kind, m.quantity, m.stock_after, m.reason,
       m.order_id, m.purchase_order_id, NULL, m.unit_cost, m.actor, m.created_at
  FROM stock_movements m
  JOIN locations l ON l.tenant_id = m.tenant_id AND l.is_default = 1;

DROP TABLE stock_movements;
ALTER TABLE stock_movements_v2 RENAME TO stock_movements;
CREATE INDEX movements_by_tenant ON stock_movements (tenant_id, id);
CREATE INDEX movements_by_variant ON stock_movements (tenant_id, variant_id, created_at);
CREATE INDEX movements_by_time ON stock_movements (tenant_id, created_at);

-- Where a purchase order is received. Added in place (the lines reference this table, and
-- rebuilding it would cascade into them); always written by the store.
ALTER TABLE purchase_orders ADD COLUMN location_id TEXT;
UPDATE purchase_orders
   SET location_id = (SELECT l.id FROM locations l
                       WHERE l.tenant_id = purchase_orders.tenant_id AND l.is_default = 1);
CREATE INDEX purchase_orders_by_location ON purchase_orders (tenant_id, location_id, status);

-- The location an order asked for (NULL: allocated across locations), and where each line's
-- units were taken from: a JSON array of {"location_id", "quantity", "returned"}. Every line
-- placed before locations existed was taken from the default location.
ALTER TABLE orders ADD COLUMN location_id TEXT;
ALTER TABLE order_lines ADD COLUMN allocations TEXT NOT NULL DEFAULT '[]';
UPDATE order_lines
   SET allocations = json_array(json_object(
           'location_id', (SELECT l.id FROM locations l
                            WHERE l.tenant_id = order_lines.tenant_id AND l.is_default = 1),
           'quantity', quantity,
           'returned', returned));

-- Transfers of stock between two locations of a tenant, written through the ledger.
CREATE TABLE transfers (
    id                TEXT    NOT NULL PRIMARY KEY,
    tenant_id         TEXT    NOT NULL,
    from_location_id  TEXT    NOT NULL,
    to_location_id    TEXT    NOT NULL,
    status            TEXT    NOT NULL CHECK (status IN
                          ('DRAFT', 'SHIPPED', 'PARTIALLY_RECEIVED', 'RECEIVED', 'CANCELLED')),
    created_by        TEXT    NOT NULL,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    shipped_at        INTEGER,
    version           INTEGER NOT NULL
) STRICT;
CREATE INDEX transfers_by_tenant ON transfers (tenant_id, id);
CREATE INDEX transfers_by_status ON transfers (tenant_id, status, id);
CREATE INDEX transfers_from ON transfers (tenant_id, from_location_id, status);
CREATE INDEX transfers_to ON transfers (tenant_id, to_location_id, status);

CREATE TABLE transfer_lines (
    transfer_id  TEXT    NOT NULL REFERENCES transfers (id) ON DELETE CASCADE,
    position     INTEGER NOT NULL,
    tenant_id    TEXT    NOT NULL,
    variant_id   TEXT    NOT NULL,
    quantity     INTEGER NOT NULL,
    received     INTEGER NOT NULL,
    PRIMARY KEY (transfer_id, position)
) STRICT;
-- A variant's units shipped on transfers and not yet received, kept by the ledger in the same
-- write as the TRANSFER_OUT or TRANSFER_IN that changes it, so reading it costs nothing.
ALTER TABLE variants ADD COLUMN in_transit INTEGER NOT NULL DEFAULT 0 CHECK (in_transit >= 0);
