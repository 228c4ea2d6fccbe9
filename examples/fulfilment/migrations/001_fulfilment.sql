-- The catalogue an order is priced from.
CREATE TABLE products (
  sku      TEXT PRIMARY KEY,
  name     TEXT NOT NULL,
  price    REAL NOT NULL CHECK (price > 0),
  currency TEXT NOT NULL
);
INSERT INTO products (sku, name, price, currency) VALUES
  ('TEA-1', 'Sencha, 100 g', 4.5, 'EUR'),
  ('TEA-2', 'Assam, 250 g', 6.25, 'EUR'),
  ('MUG-1', 'Stoneware mug', 12, 'EUR'),
  ('POT-1', 'Cast-iron teapot', 29.9, 'EUR');

-- The order ledger the reports read. Where an order stands is the `orders` state machine's (state.db): these
-- columns only record when it was paid or given up on, so a report is one query.
CREATE TABLE orders (
  id         TEXT PRIMARY KEY,
  sku        TEXT NOT NULL REFERENCES products (sku),
  qty        INTEGER NOT NULL CHECK (qty > 0),
  total      REAL NOT NULL,
  currency   TEXT NOT NULL,
  email      TEXT NOT NULL,
  created_at TEXT NOT NULL,
  charge_id  TEXT,
  paid_at    TEXT,
  failed_at  TEXT
);
CREATE INDEX orders_created_at ON orders (created_at);

-- One row per report run, nightly or on demand.
CREATE TABLE reports (
  id       INTEGER PRIMARY KEY,
  source   TEXT NOT NULL,
  ran_at   TEXT NOT NULL,
  since    TEXT NOT NULL,
  placed   INTEGER NOT NULL,
  paid     INTEGER NOT NULL,
  revenue  REAL NOT NULL,
  failed   INTEGER NOT NULL
);
