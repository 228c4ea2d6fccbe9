-- Orders placed through POST /orders.
CREATE TABLE orders (
  id         TEXT PRIMARY KEY,
  sku        TEXT NOT NULL,
  qty        INTEGER NOT NULL CHECK (qty > 0),
  note       TEXT,
  created_at TEXT NOT NULL
);
CREATE INDEX orders_created_at ON orders (created_at);
