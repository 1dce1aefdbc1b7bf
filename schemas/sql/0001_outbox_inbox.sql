-- The event plumbing every service shares (ARCHITECTURE.md principle 2).

-- Head of each subject's hash chain. Locked by sp_outbox_emit() so events of
-- one subject are sealed (and committed) one after another.
CREATE TABLE event_chain (
    subject      text PRIMARY KEY,
    topic        text NOT NULL,
    last_hash    char(64) NOT NULL,
    event_count  bigint NOT NULL CHECK (event_count >= 0)
);

-- Events waiting for (or already through) the relay. payload holds the exact
-- bytes put on the topic, so the hash an auditor recomputes is this one.
CREATE TABLE outbox (
    seq            bigserial PRIMARY KEY,
    producer       text NOT NULL,
    topic          text NOT NULL,
    partition_key  text NOT NULL,
    event_id       uuid NOT NULL UNIQUE,
    event_type     text NOT NULL,
    subject        text NOT NULL,
    payload        text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    sent_at        timestamptz
);
CREATE INDEX outbox_unsent ON outbox (producer, seq) WHERE sent_at IS NULL;

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
