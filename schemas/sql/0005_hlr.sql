-- 0005: hlr-provisioner (B5, B6, the HLR side of B9).
--
-- A batch accepted from its vendor is queued here by the event
-- batch.output_accepted and loaded into the HLR a group of SIMs at a time;
-- each group's outcome is committed as it is done (sims.state becomes
-- 'provisioned' or 'hlr_failed'), so a restart resumes with the SIMs still
-- 'produced'. The counts here feed the report, batch.provisioned.
CREATE TABLE hlr_loads (
    batch_id      text PRIMARY KEY,
    order_id      text NOT NULL,
    profile       text NOT NULL,
    sims          integer NOT NULL CHECK (sims > 0),
    iccid_first   text NOT NULL,
    iccid_last    text NOT NULL,
    imsi_first    bigint NOT NULL,
    imsi_last     bigint NOT NULL,
    state         text NOT NULL DEFAULT 'queued'
                  CHECK (state IN ('queued', 'loading', 'stalled', 'done')),
    reason        text,               -- why it is stalled
    loaded        integer NOT NULL DEFAULT 0,
    already       integer NOT NULL DEFAULT 0,
    failed        integer NOT NULL DEFAULT 0,
    queued_at     timestamptz NOT NULL DEFAULT now(),
    started_at    timestamptz,
    finished_at   timestamptz,
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX hlr_loads_open ON hlr_loads (queued_at) WHERE state <> 'done';

-- Why a SIM could not be loaded; never key material.
CREATE TABLE hlr_failures (
    iccid       text PRIMARY KEY,
    batch_id    text NOT NULL,
    reason      text NOT NULL,
    failed_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX hlr_failures_batch ON hlr_failures (batch_id);

-- B9, the HLR side: a request from inventory to put a number on a SIM PKI
-- (a new number, or a swap moving the customer's number from the SIM that
-- holds it). The saga's step is saved after each one (connect.h), so a
-- crash resumes it; the outcome is an event back to inventory.
CREATE TABLE hlr_connections (
    request_id    text PRIMARY KEY,
    iccid         text NOT NULL,
    imsi          text NOT NULL,
    msisdn        text NOT NULL CHECK (msisdn ~ '^84[0-9]{9}$'),
    swap          boolean NOT NULL,
    case_id       text,
    correlation   text NOT NULL,
    old_imsi      text,
    step          text NOT NULL DEFAULT 'find' CHECK (step IN
                    ('find', 'clear_old', 'set_new', 'verify', 'restore', 'done', 'failed')),
    restored      boolean NOT NULL DEFAULT false,
    reason        text,
    requested_at  timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    finished_at   timestamptz
);
CREATE INDEX hlr_connections_open ON hlr_connections (requested_at)
    WHERE step NOT IN ('done', 'failed');
