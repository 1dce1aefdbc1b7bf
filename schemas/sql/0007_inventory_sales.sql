-- 0007: inventory from connection to payment (B9-B11).

-- Tariff packages of the SIM PKI offer (data: simpkictl tariffs load).
-- Prices in đồng, before VAT.
CREATE TABLE tariffs (
    package_id      text PRIMARY KEY CHECK (package_id ~ '^[A-Z0-9][A-Z0-9_-]{1,31}$'),
    name            text NOT NULL,
    connection_fee  bigint NOT NULL CHECK (connection_fee >= 0),
    package_price   bigint NOT NULL CHECK (package_price >= 0),
    vat_percent     integer NOT NULL DEFAULT 10 CHECK (vat_percent BETWEEN 0 AND 100)
);

-- The pool of free numbers a new subscription picks from (data:
-- simpkictl numbers load). reserved: promised to a connection in flight.
CREATE TABLE numbers (
    msisdn     text PRIMARY KEY CHECK (msisdn ~ '^84[0-9]{9}$'),
    state      text NOT NULL DEFAULT 'free' CHECK (state IN ('free', 'reserved', 'assigned')),
    iccid      text,
    changed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX numbers_free ON numbers (msisdn) WHERE state = 'free';

-- B9: a shop connects a SIM at the shop to a customer; the HLR side is
-- hlr-provisioner's (connection.requested -> connection.hlr_done/failed).
CREATE TABLE connections (
    request_id    text PRIMARY KEY,
    iccid         text NOT NULL,
    shop_id       text NOT NULL,
    ctkv_id       text NOT NULL,
    case_id       text,
    swap          boolean NOT NULL,
    msisdn        text NOT NULL CHECK (msisdn ~ '^84[0-9]{9}$'),
    package_id    text NOT NULL REFERENCES tariffs,
    state         text NOT NULL DEFAULT 'requested' CHECK (state IN ('requested', 'done', 'failed')),
    reason        text,
    by_user       text NOT NULL,
    requested_at  timestamptz NOT NULL DEFAULT now(),
    finished_at   timestamptz
);
-- One connection in flight or done per SIM, and per case.
CREATE UNIQUE INDEX connections_sim ON connections (iccid) WHERE state <> 'failed';
CREATE UNIQUE INDEX connections_case ON connections (case_id) WHERE state <> 'failed' AND case_id IS NOT NULL;

-- B10: a sale's invoice. The number comes from the CTKV's gap-free series
-- (ctkvs.next_invoice_no) in the sale's transaction; a SIM is sold once.
CREATE TABLE invoices (
    series      text NOT NULL,
    number      integer NOT NULL CHECK (number > 0),
    ctkv_id     text NOT NULL,
    shop_id     text NOT NULL,
    iccid       text NOT NULL UNIQUE,
    subtotal    bigint NOT NULL,
    vat         bigint NOT NULL,
    total       bigint NOT NULL,
    document    jsonb NOT NULL,
    by_user     text NOT NULL,
    issued_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (series, number)
);

-- B11: the customer received the SIM PKI; paid, or owing.
CREATE TABLE deliveries (
    iccid         text PRIMARY KEY,
    received_by   text NOT NULL,
    amount_paid   bigint NOT NULL CHECK (amount_paid >= 0),
    debt          bigint NOT NULL CHECK (debt >= 0),
    by_user       text NOT NULL,
    delivered_at  timestamptz NOT NULL DEFAULT now()
);
