-- The event plumbing every service shares (ARCHITECTURE.md principle 2).

-- Head of each subject's hash chain. Locked by sp_outbox_emit() so events of
-- one subject are sealed (and committed) one after another. last_xid is the
-- transaction that wrote the head: a subject's events must be written by
-- transactions in increasing xid order (see outbox_cursor below).
CREATE TABLE event_chain (
    subject      text PRIMARY KEY,
    topic        text NOT NULL,
    last_hash    char(64) NOT NULL,
    last_xid     xid8 NOT NULL DEFAULT pg_current_xact_id(),
    event_count  bigint NOT NULL CHECK (event_count >= 0)
);

-- Events for the relay. payload holds the exact bytes put on the topic, so the
-- hash an auditor recomputes is this one. Rows are never updated.
CREATE TABLE outbox (
    seq            bigserial PRIMARY KEY,
    xid            xid8 NOT NULL DEFAULT pg_current_xact_id(),
    producer       text NOT NULL,
    topic          text NOT NULL,
    partition_key  text NOT NULL,
    event_id       uuid NOT NULL UNIQUE,
    event_type     text NOT NULL,
    subject        text NOT NULL,
    payload        text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX outbox_relay_order ON outbox (producer, xid, seq);

-- How far each producer's relay has published, in (xid, seq) order. The relay
-- only reads rows of transactions older than its snapshot's xmin: all of
-- those have ended, so no row can later appear behind the cursor. Moving one
-- cursor row per round is what keeps the relay cheap (no per-row update).
CREATE TABLE outbox_cursor (
    producer    text PRIMARY KEY,
    last_xid    xid8 NOT NULL,
    last_seq    bigint NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Events written and not yet published, per producer.
CREATE VIEW outbox_pending AS
SELECT o.*
  FROM outbox o
  LEFT JOIN outbox_cursor c ON c.producer = o.producer
 WHERE c.producer IS NULL OR (o.xid, o.seq) > (c.last_xid, c.last_seq);

-- Events a consumer has applied; written in the same transaction as the
-- effect, so a redelivery is recognised and changes nothing.
CREATE TABLE inbox (
    consumer    text NOT NULL,
    event_id    uuid NOT NULL,
    event_type  text NOT NULL,
    subject     text NOT NULL,
    handled_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);

-- The last hash each consumer applied per subject, to refuse an event that
-- does not link onto it.
CREATE TABLE inbox_chain (
    consumer   text NOT NULL,
    subject    text NOT NULL,
    last_hash  char(64) NOT NULL,
    PRIMARY KEY (consumer, subject)
);
