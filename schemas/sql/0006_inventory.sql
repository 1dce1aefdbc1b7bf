-- 0006: inventory (B7-B11 and the shop cases of Flow A).
--
-- The organisation is data (simpkictl org load): the nine regional
-- companies (CTKV) and their shops. Users act with an API token whose
-- SHA-256 alone is stored. A SIM's custody lives on its sims row (state,
-- ctkv_id, shop_id), changed by set-based statements over ICCID ranges;
-- each range move is recorded in custody_moves and published as one event.

CREATE TABLE ctkvs (
    ctkv_id          text PRIMARY KEY CHECK (ctkv_id ~ '^CTKV[1-9]$'),
    name             text NOT NULL,
    address          text NOT NULL,
    tax_code         text NOT NULL,
    invoice_series   text NOT NULL UNIQUE,
    -- The next invoice number of the CTKV's series: taken under the row's
    -- lock in the sale's own transaction, so the series has no gaps.
    next_invoice_no  integer NOT NULL DEFAULT 1 CHECK (next_invoice_no > 0)
);

CREATE TABLE shops (
    shop_id    text PRIMARY KEY CHECK (shop_id ~ '^[A-Z0-9][A-Z0-9-]{1,31}$'),
    ctkv_id    text NOT NULL REFERENCES ctkvs,
    name       text NOT NULL,
    province   text NOT NULL
);
CREATE INDEX shops_ctkv ON shops (ctkv_id);

CREATE TABLE users (
    user_id       text PRIMARY KEY CHECK (user_id ~ '^[a-z0-9][a-z0-9._-]{1,63}$'),
    role          text NOT NULL CHECK (role IN ('ban_khdn', 'ban_khcn', 'tt_tctk',
                    'ctkv', 'shop', 'bcycp', 'auditor')),
    ctkv_id       text REFERENCES ctkvs,
    shop_id       text REFERENCES shops,
    token_sha256  char(64) NOT NULL UNIQUE,
    created_by    text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    disabled_at   timestamptz,
    CHECK (role <> 'ctkv' OR (ctkv_id IS NOT NULL AND shop_id IS NULL)),
    CHECK (role <> 'shop' OR shop_id IS NOT NULL),
    CHECK (role IN ('ctkv', 'shop') OR (ctkv_id IS NULL AND shop_id IS NULL))
);

-- Where a SIM is. No foreign key: a range move updates 100,000 rows in one
-- statement, and the move itself checks the CTKV and shop once.
ALTER TABLE sims ADD COLUMN ctkv_id text, ADD COLUMN shop_id text;

-- Every move of a range of SIMs (handover, stock-in, transfer) and every
-- single-SIM change, in order: who, what, when.
CREATE TABLE custody_moves (
    move_id      text PRIMARY KEY,
    kind         text NOT NULL CHECK (kind IN ('handover', 'stock_in', 'transfer',
                   'walk_in', 'connect', 'sell', 'deliver', 'mark_faulty', 'return')),
    ctkv_id      text,
    shop_id      text,
    purpose      text CHECK (purpose IN ('testing', 'customers')),
    iccid_first  text NOT NULL,
    iccid_last   text NOT NULL,
    sims         integer NOT NULL CHECK (sims > 0),
    by_user      text NOT NULL,
    at           timestamptz NOT NULL DEFAULT now(),
    CHECK (kind <> 'handover' OR purpose IS NOT NULL)
);
CREATE SEQUENCE custody_move_number;
CREATE INDEX custody_moves_first ON custody_moves (iccid_first);
