-- Orders commit units instead of selling them when placed.
--
-- A level keeps, beside its on hand (the `stock` column, Σ of its movements), the units committed
-- to placed orders that are not fulfilled yet; available = stock − committed. Placing an order
-- raises `committed`, fulfilling it writes the SALE and lowers both, cancelling it lowers
-- `committed` alone. Changed only by the ledger's conditional update; the CHECK is a last line
-- of defence.
ALTER TABLE stock_levels ADD COLUMN committed INTEGER NOT NULL DEFAULT 0 CHECK (committed >= 0);

-- Every order placed before this took its units off the shelf with a SALE when it was placed:
-- fulfilling one moves nothing and cancelling one returns its units. New orders are written
-- with 0.
ALTER TABLE orders ADD COLUMN sold_at_placement INTEGER NOT NULL DEFAULT 1
    CHECK (sold_at_placement IN (0, 1));
