-- Orders keep the price quoted when they were placed.
ALTER TABLE orders ADD COLUMN total REAL;
ALTER TABLE orders ADD COLUMN currency TEXT;
