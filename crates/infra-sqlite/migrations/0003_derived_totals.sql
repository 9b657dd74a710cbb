-- A variant's total stock is derived from its levels on every read instead of stored beside them.
--
-- With a stored total every stock change wrote two rows — the level and the variant — in two
-- B-trees, and the variant row is the widest the ledger touches. Deriving the total costs a read
-- one primary-key range over the variant's levels (which a variant read fetches anyway), keeps a
-- stock change to one row, and makes `total == Σ levels` hold by construction rather than by
-- audit. The column's CHECK is its own, so SQLite drops it in place.
ALTER TABLE variants DROP COLUMN stock;
