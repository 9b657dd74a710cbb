-- Stockroom's first schema.
--
-- Conventions: ids are hyphenated lowercase UUIDv7 text (text order = creation order), times are
-- integer milliseconds since the epoch, money and quantities are integers. Every tenant-owned
-- table carries tenant_id and every index used by a list starts with it. Tables are STRICT so a
-- value of the wrong type is refused instead of silently stored.

CREATE TABLE tenants (
    id          TEXT    NOT NULL PRIMARY KEY,
    name        TEXT    NOT NULL,
    slug        TEXT    NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE users (
    id             TEXT    NOT NULL PRIMARY KEY,
    tenant_id      TEXT    NOT NULL,
    email          TEXT    NOT NULL,
    name           TEXT    NOT NULL,
    role           TEXT    NOT NULL CHECK (role IN ('OWNER', 'MANAGER', 'STAFF')),
    active         INTEGER NOT NULL CHECK (active IN (0, 1)),
    password_hash  TEXT    NOT NULL,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    UNIQUE (tenant_id, email)
) STRICT;
CREATE INDEX users_by_tenant ON users (tenant_id, id);

CREATE TABLE products (
    id           TEXT    NOT NULL PRIMARY KEY,
    tenant_id    TEXT    NOT NULL,
    name         TEXT    NOT NULL,
    description  TEXT,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    -- Also the target of the variants' (tenant_id, product_id) foreign key.
    UNIQUE (tenant_id, id)
) STRICT;

CREATE TABLE variants (
    id             TEXT    NOT NULL PRIMARY KEY,
    tenant_id      TEXT    NOT NULL,
    product_id     TEXT    NOT NULL,
    sku            TEXT    NOT NULL,
    attributes     TEXT    NOT NULL,
    price          INTEGER NOT NULL,
    reorder_level  INTEGER NOT NULL,
    -- Changed only by the ledger's conditional update; the CHECK is a last line of defence.
    stock          INTEGER NOT NULL DEFAULT 0 CHECK (stock >= 0),
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    UNIQUE (tenant_id, sku),
    FOREIGN KEY (tenant_id, product_id) REFERENCES products (tenant_id, id)
) STRICT;
CREATE INDEX variants_by_tenant ON variants (tenant_id, id);
CREATE INDEX variants_by_product ON variants (tenant_id, product_id, id);

-- The append-only ledger. No foreign key to variants: movements outlive deleted variants.
CREATE TABLE stock_movements (
    id                 TEXT    NOT NULL PRIMARY KEY,
    tenant_id          TEXT    NOT NULL,
    variant_id         TEXT    NOT NULL,
    kind               TEXT    NOT NULL CHECK (kind IN ('PURCHASE', 'SALE', 'ADJUSTMENT', 'RETURN')),
    quantity           INTEGER NOT NULL,
    stock_after        INTEGER NOT NULL,
    reason             TEXT,
    order_id           TEXT,
    purchase_order_id  TEXT,
    unit_cost          INTEGER,
    actor              TEXT    NOT NULL,
    created_at         INTEGER NOT NULL
) STRICT;
CREATE INDEX movements_by_tenant ON stock_movements (tenant_id, id);
CREATE INDEX movements_by_variant ON stock_movements (tenant_id, variant_id, created_at);
CREATE INDEX movements_by_time ON stock_movements (tenant_id, created_at);

CREATE TABLE orders (
    id              TEXT    NOT NULL PRIMARY KEY,
    tenant_id       TEXT    NOT NULL,
    status          TEXT    NOT NULL CHECK (status IN
                        ('PLACED', 'FULFILLED', 'CANCELLED', 'PARTIALLY_RETURNED', 'RETURNED')),
    customer_name   TEXT,
    customer_email  TEXT,
    note            TEXT,
    total           INTEGER NOT NULL,
    placed_by       TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    version         INTEGER NOT NULL
) STRICT;
CREATE INDEX orders_by_tenant ON orders (tenant_id, id);
CREATE INDEX orders_by_status ON orders (tenant_id, status, id);
CREATE INDEX orders_by_time ON orders (tenant_id, created_at);

CREATE TABLE order_lines (
    order_id    TEXT    NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    tenant_id   TEXT    NOT NULL,
    variant_id  TEXT    NOT NULL,
    sku         TEXT    NOT NULL,
    quantity    INTEGER NOT NULL,
    unit_price  INTEGER NOT NULL,
    line_total  INTEGER NOT NULL,
    returned    INTEGER NOT NULL,
    PRIMARY KEY (order_id, position)
) STRICT;

CREATE TABLE suppliers (
    id              TEXT    NOT NULL PRIMARY KEY,
    tenant_id       TEXT    NOT NULL,
    name            TEXT    NOT NULL,
    email           TEXT,
    phone           TEXT,
    lead_time_days  INTEGER,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
) STRICT;
CREATE INDEX suppliers_by_tenant ON suppliers (tenant_id, id);

-- No foreign key to suppliers: a supplier may be deleted once its orders are finished.
CREATE TABLE purchase_orders (
    id           TEXT    NOT NULL PRIMARY KEY,
    tenant_id    TEXT    NOT NULL,
    supplier_id  TEXT    NOT NULL,
    status       TEXT    NOT NULL CHECK (status IN
                     ('DRAFT', 'ORDERED', 'PARTIALLY_RECEIVED', 'RECEIVED', 'CANCELLED', 'CLOSED')),
    expected_at  INTEGER,
    created_by   TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    version      INTEGER NOT NULL
) STRICT;
CREATE INDEX purchase_orders_by_tenant ON purchase_orders (tenant_id, id);
CREATE INDEX purchase_orders_by_status ON purchase_orders (tenant_id, status, id);
CREATE INDEX purchase_orders_by_supplier ON purchase_orders (tenant_id, supplier_id, status);

CREATE TABLE purchase_order_lines (
    purchase_order_id  TEXT    NOT NULL REFERENCES purchase_orders (id) ON DELETE CASCADE,
    position           INTEGER NOT NULL,
    tenant_id          TEXT    NOT NULL,
    variant_id         TEXT    NOT NULL,
    quantity           INTEGER NOT NULL,
    unit_cost          INTEGER NOT NULL,
    received           INTEGER NOT NULL,
    PRIMARY KEY (purchase_order_id, position)
) STRICT;
-- Serves a variant's `incoming` (Σ quantity − received over its open purchase orders).
CREATE INDEX purchase_order_lines_by_variant ON purchase_order_lines (tenant_id, variant_id);

-- One row per remembered Idempotency-Key; the primary key refuses a second live record.
CREATE TABLE idempotency_records (
    tenant_id    TEXT    NOT NULL,
    key          TEXT    NOT NULL,
    fingerprint  TEXT    NOT NULL,
    status       INTEGER NOT NULL,
    body         BLOB    NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, key)
) STRICT;
CREATE INDEX idempotency_records_by_expiry ON idempotency_records (expires_at);
