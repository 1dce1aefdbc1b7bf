-- Tables of the exactly-once test (tests/integration/test_exactly_once.sh).
CREATE TABLE eo_ledger (n int PRIMARY KEY, account text NOT NULL, amount bigint NOT NULL);
-- No unique key: applying an event twice must show as a duplicate row.
CREATE TABLE eo_applied (n int NOT NULL, account text NOT NULL, amount bigint NOT NULL, event_id uuid NOT NULL);
CREATE TABLE eo_account (account text PRIMARY KEY, last_n int NOT NULL, total bigint NOT NULL);
CREATE TABLE eo_violations (account text NOT NULL, n int NOT NULL, last_n int NOT NULL);
