-- order-intake: BCYCP orders (B1), vendors and pilots (B2.1, B2.2), batches,
-- and the Cục CTS registration notices with their connection cases (A4).

-- Readable identifiers: ORD-2026-000001, NOT-2026-000001, CASE-2026-000001.
CREATE SEQUENCE order_number;
CREATE SEQUENCE notice_number;
CREATE SEQUENCE case_number;

-- SIM vendors. A vendor is "connected" once its pilot passed; before that,
-- its production batches wait (B2.1) and a failed pilot blocks its orders.
CREATE TABLE vendors (
    vendor_id         text PRIMARY KEY CHECK (vendor_id ~ '^[A-Z0-9][A-Z0-9_-]{1,31}$'),
    name              text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    state             text NOT NULL DEFAULT 'new' CHECK (state IN
                        ('new', 'agreement_signed', 'pilot_running',
                         'connected', 'blocked')),
    agreement_ref     text,
    agreement_date    date,
    agreement_by      text,
    pilot_batch_id    text,
    pilot_evidence    text,
    blocked_reason    text,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CHECK (state IN ('new') OR agreement_ref IS NOT NULL),
    CHECK (state <> 'blocked' OR blocked_reason IS NOT NULL)
);

-- BCYCP orders. bcycp_ref is BCYCP's own reference: resubmitting the same
-- document returns the same order, another document under it is refused.
CREATE TABLE orders (
    order_id          text PRIMARY KEY,
    bcycp_ref         text NOT NULL UNIQUE,
    document_sha256   char(64) NOT NULL,
    vendor_id         text NOT NULL REFERENCES vendors,
    quantity          integer NOT NULL CHECK (quantity > 0),
    profile           text NOT NULL CHECK (profile IN ('2g_comp128', 'usim_milenage')),
    state             text NOT NULL CHECK (state IN
                        ('waiting_pilot', 'in_production', 'blocked')),
    blocked_reason    text,
    document          jsonb NOT NULL,
    signer            jsonb NOT NULL,
    received_via      text NOT NULL,
    received_at       timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_by_vendor ON orders (vendor_id);

-- One line per state change of an order, for GET /v1/orders/{id}.
CREATE TABLE order_timeline (
    order_id          text NOT NULL REFERENCES orders,
    at                timestamptz NOT NULL DEFAULT clock_timestamp(),
    step              text NOT NULL,
    detail            text NOT NULL,
    actor             text NOT NULL,
    event_id          uuid
);
CREATE INDEX order_timeline_by_order ON order_timeline (order_id, at);

-- Batches: the pilot of a new vendor, and the production batches an order
-- is split into. Released batches are what vendor-exchange produces.
CREATE TABLE batches (
    batch_id          text PRIMARY KEY,
    order_id          text NOT NULL REFERENCES orders,
    vendor_id         text NOT NULL REFERENCES vendors,
    kind              text NOT NULL CHECK (kind IN ('pilot', 'production')),
    seq               integer NOT NULL CHECK (seq > 0),
    quantity          integer NOT NULL CHECK (quantity > 0),
    profile           text NOT NULL,
    state             text NOT NULL CHECK (state IN
                        ('held', 'released', 'passed', 'failed')),
    created_at        timestamptz NOT NULL DEFAULT now(),
    released_at       timestamptz,
    UNIQUE (order_id, kind, seq),
    CHECK (kind <> 'pilot' OR quantity BETWEEN 5 AND 10)
);
CREATE INDEX batches_held_by_vendor ON batches (vendor_id) WHERE state = 'held';

-- Cục CTS notices (A4): each listed person becomes a connection case whose
-- contact deadline (A5) the notifier tracks until the connection (B9).
CREATE TABLE registration_notices (
    notice_id         text PRIMARY KEY,
    notice_ref        text NOT NULL UNIQUE,
    file_sha256       char(64) NOT NULL,
    persons           integer NOT NULL CHECK (persons > 0),
    received_via      text NOT NULL,
    received_at       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE connection_cases (
    case_id           text PRIMARY KEY,
    notice_id         text NOT NULL REFERENCES registration_notices,
    line_no           integer NOT NULL,
    agency            text NOT NULL,
    full_name         text NOT NULL,
    id_number         text NOT NULL,
    msisdn            text CHECK (msisdn ~ '^84[0-9]{9}$'),
    wants_new_number  boolean NOT NULL,
    state             text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'connected', 'cancelled')),
    opened_at         timestamptz NOT NULL DEFAULT now(),
    closed_at         timestamptz,
    UNIQUE (notice_id, id_number),
    CHECK (wants_new_number OR msisdn IS NOT NULL)
);
-- A person has one open case at a time.
CREATE UNIQUE INDEX connection_cases_one_open ON connection_cases (id_number) WHERE state = 'open';
