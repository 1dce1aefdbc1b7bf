-- 0004: a SIM's secrets as one sealed record.
--
-- 0003 sealed ADM1, Ki and OPc one column each and kept the PIN/PUK codes in
-- clear. Now Ki, OPc, ADM1 and the PIN/PUK codes are one record
-- (common/sim_secrets.h), sealed under the KEK named by kek_id with the IMSI
-- as associated data: the codes are secrets too, one seal per SIM costs a
-- third of three, and the narrower row keeps a million-SIM COPY within twice
-- a plain COPY of the same rows.
--
-- No deployment holds SIMs under the 0003 layout, and its sealed columns
-- cannot be merged in SQL (that needs the KEK): refuse rather than guess.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM sims) THEN
        RAISE EXCEPTION 'sims holds rows in the 0003 layout; re-ingest them into an empty table';
    END IF;
END $$;

DROP TABLE sims;

-- The table carries only what lookups need (ICCID, IMSI) and cheap checks:
-- ingest checks every digit, Luhn and pairing before a row is sent, and each
-- SIM lies in its batch's ranges, which batch_allocations' exclusion
-- constraints keep apart. A regular-expression CHECK or a foreign key here
-- would run once per row and double the load time. A batch's SIMs are the
-- ICCID range of its allocation: query them through the primary key.
--
-- The IMSI is a number here: 15 digits whose first (the MCC's) is never 0,
-- so its text is the same, and its unique index costs half that of text.
-- The ICCID stays text: 20 digits do not fit in a bigint.
CREATE TABLE sims (
    iccid         text PRIMARY KEY CHECK (length(iccid) IN (19, 20)),
    imsi          bigint NOT NULL UNIQUE CHECK (imsi BETWEEN 100000000000000 AND 999999999999999),
    batch_id      text NOT NULL,
    kek_id        text NOT NULL,
    secrets_enc   bytea NOT NULL,
    state         text NOT NULL DEFAULT 'produced',
    created_at    timestamptz NOT NULL DEFAULT now()
);
