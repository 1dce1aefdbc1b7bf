-- vendor-exchange: the SIM PKI numbering plan, number ranges per batch (B3),
-- the input and output files and the SIMs they produce (B4).

-- The numbering plan: blocks of IMSIs and ICCIDs reserved for SIM PKI, loaded
-- by `simpkictl numbering load`. Numbers are kept as int8: an IMSI has 15
-- digits; an ICCID without its Luhn digit has at most 19 and starts with 89,
-- so it stays below 2^63.
CREATE TABLE numbering_blocks (
    block_id      text PRIMARY KEY,
    kind          text NOT NULL CHECK (kind IN ('imsi', 'iccid')),
    prefix        text NOT NULL CHECK (prefix ~ '^[0-9]+$'),
    digits        integer NOT NULL CHECK (digits BETWEEN 15 AND 19),
    first_number  bigint NOT NULL,
    last_number   bigint NOT NULL,
    numbers       int8range GENERATED ALWAYS AS (int8range(first_number, last_number, '[]')) STORED,
    loaded_at     timestamptz NOT NULL DEFAULT now(),
    CHECK (first_number <= last_number),
    EXCLUDE USING gist (numbers WITH &&)
);

-- One contiguous IMSI range and one contiguous ICCID range per batch. The
-- exclusion constraints are the guarantee that no two batches overlap, even
-- with two allocators at once.
CREATE TABLE batch_allocations (
    batch_id      text PRIMARY KEY REFERENCES batches,
    imsi_block    text NOT NULL REFERENCES numbering_blocks,
    iccid_block   text NOT NULL REFERENCES numbering_blocks,
    imsi_range    int8range NOT NULL,
    iccid_range   int8range NOT NULL,
    quantity      integer NOT NULL CHECK (quantity > 0),
    allocated_at  timestamptz NOT NULL DEFAULT now(),
    CHECK (upper(imsi_range) - lower(imsi_range) = quantity),
    CHECK (upper(iccid_range) - lower(iccid_range) = quantity),
    EXCLUDE USING gist (imsi_range WITH &&),
    EXCLUDE USING gist (iccid_range WITH &&)
);

-- A range lies inside the block it names, of the right kind: a number
-- outside the plan may belong to another MobiFone service. Blocks are never
-- redefined once loaded, so checking at insert is enough.
CREATE FUNCTION batch_allocation_in_blocks() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM numbering_blocks WHERE block_id = NEW.imsi_block
                   AND kind = 'imsi' AND numbers @> NEW.imsi_range)
       OR NOT EXISTS (SELECT 1 FROM numbering_blocks WHERE block_id = NEW.iccid_block
                      AND kind = 'iccid' AND numbers @> NEW.iccid_range) THEN
        RAISE EXCEPTION 'batch %: ranges % and % are not inside blocks % and %',
            NEW.batch_id, NEW.imsi_range, NEW.iccid_range, NEW.imsi_block, NEW.iccid_block
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER batch_allocations_in_blocks BEFORE INSERT OR UPDATE ON batch_allocations
    FOR EACH ROW EXECUTE FUNCTION batch_allocation_in_blocks();

CREATE FUNCTION numbering_block_frozen() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'numbering block %: a loaded block is never redefined', OLD.block_id
        USING ERRCODE = 'check_violation';
END $$;
CREATE TRIGGER numbering_blocks_frozen
    BEFORE UPDATE OF block_id, kind, prefix, digits, first_number, last_number ON numbering_blocks
    FOR EACH ROW EXECUTE FUNCTION numbering_block_frozen();

-- The files exchanged with the vendor for a batch.
CREATE TABLE batch_files (
    batch_id          text PRIMARY KEY REFERENCES batch_allocations,
    transport_key_id  text NOT NULL,
    input_sha256      char(64) NOT NULL,
    input_path        text NOT NULL,
    input_issued_at   timestamptz NOT NULL DEFAULT now(),
    output_sha256     char(64) UNIQUE,
    output_accepted_at timestamptz
);

-- Files already judged, by content: the same file twice changes nothing.
CREATE TABLE vendor_output_files (
    sha256        char(64) PRIMARY KEY,
    batch_id      text,
    verdict       text NOT NULL CHECK (verdict IN ('accepted', 'rejected')),
    reason        text,
    line_no       integer,
    judged_at     timestamptz NOT NULL DEFAULT now()
);

-- Every SIM produced. Ki, OPc and ADM1 are stored only as AES-256-GCM
-- ciphertext under the key-encryption key kek_id (nonce || ciphertext ||
-- tag), with the IMSI as associated data. The life of a SIM after
-- 'produced' belongs to hlr-provisioner and inventory.
--
-- A million-SIM file streams in here in one COPY, so the table carries only
-- what lookups need (ICCID, IMSI) and cheap checks: ingest checks every
-- digit, Luhn and pairing before a row is sent, and each SIM lies in its
-- batch's ranges, which batch_allocations' exclusion constraints keep
-- apart. A regular-expression CHECK or a foreign key here would run once
-- per row and double the load time. A batch's SIMs are the ICCID range of
-- its allocation: query them through the primary key.
CREATE TABLE sims (
    iccid         text PRIMARY KEY CHECK (length(iccid) IN (19, 20)),
    imsi          text NOT NULL UNIQUE CHECK (length(imsi) = 15),
    batch_id      text NOT NULL,
    pin1          text NOT NULL,
    puk1          text NOT NULL,
    pin2          text NOT NULL,
    puk2          text NOT NULL,
    kek_id        text NOT NULL,
    adm1_enc      bytea NOT NULL,
    ki_enc        bytea NOT NULL,
    opc_enc       bytea,
    state         text NOT NULL DEFAULT 'produced',
    created_at    timestamptz NOT NULL DEFAULT now()
);
