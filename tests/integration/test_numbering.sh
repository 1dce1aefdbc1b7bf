#!/usr/bin/env bash
# Numbering plan and batch ranges (B3) on a real PostgreSQL: `simpkictl
# numbering load/show/allocate`, every refused plan file with nothing
# stored, allocation (idempotent, contiguous, lowest gap first, exhaustion
# naming the free space), the database's own guards, and two processes of
# four threads each allocating at once (tests/integration/progs/
# numbering_check.c) with SQL proving that no two ranges overlap, and the
# refusals of the C API.
set -euo pipefail
source "$SIMPKI_SOURCE_DIR/tests/lib/harness.sh"

sp_stack_up --without hlr,kafka
W=$SIMPKI_STACK_DIR/work
mkdir -p "$W"
export SIMPKI_LOG_LEVEL=error
CTL=$(sp_bin simpkictl)
CHECK=$(sp_bin numbering_check)
SAMPLE=$SIMPKI_SOURCE_DIR/deploy/local/numbering.sample
PY=/usr/bin/python3
# iccid N: the full ICCID of a number without Luhn, computed here apart
# from the C code.
iccid() {
	$PY -c 'import sys
s = sys.argv[1]; t = 0
for i, ch in enumerate(reversed(s)):
    d = int(ch) * (2 if i % 2 == 0 else 1)
    t += d - 9 if d > 9 else d
print(s + str((10 - t % 10) % 10))' "$1"
}

# Everything a refusal must leave alone.
snapshot() {
	sp_psql "SELECT (SELECT coalesce(string_agg(block_id || ':' || kind || ':' || prefix || ':' || digits
	    || ':' || first_number || ':' || last_number, ' ' ORDER BY block_id), '') FROM numbering_blocks)
	  || '/' || (SELECT coalesce(string_agg(batch_id || ':' || imsi_range || ':' || iccid_range, ' '
	    ORDER BY batch_id), '') FROM batch_allocations)"
}

# refused REASON_REGEX CMD...: exit status 1, the reason on stderr, no change.
refused() {
	local reason=$1 before rc=0
	shift
	before=$(snapshot)
	"$@" >"$W/out" 2>"$W/err" || rc=$?
	sp_assert_eq "$rc" 1 "exit status of: $*"
	grep -Eq -- "$reason" "$W/err" || sp_fail "reason for '$*' should match /$reason/: $(cat "$W/err")"
	sp_assert_eq "$(snapshot)" "$before" "tables after refused '$*'"
	[ ! -s "$W/out" ] || sp_fail "refused '$*' printed on stdout: $(cat "$W/out")"
	echo "ok   - refused: $* ($(head -c 200 "$W/err"))" >&2
}

# plan NAME LINES...: write $W/NAME.plan.
plan() {
	local name=$1
	shift
	printf '%s\n' "$@" >"$W/$name.plan"
}

sp_step "usage"
for args in "" "frob" "load" "load a b" "show extra" "allocate" "allocate a b" "load --bogus"; do
	rc=0
	# shellcheck disable=SC2086
	"$CTL" numbering $args >/dev/null 2>&1 || rc=$?
	sp_assert_eq "$rc" 2 "simpkictl numbering $args"
done
for args in "--help" "load --help" "show --help" "allocate -h"; do
	# shellcheck disable=SC2086
	"$CTL" numbering $args >"$W/help" || sp_fail "simpkictl numbering $args"
	grep -q "simpkictl numbering allocate BATCH_ID" "$W/help" || sp_fail "help of $args"
done
"$CTL" --help | grep -q "numbering" || sp_fail "numbering missing from simpkictl --help"
"$CTL" numbering show >"$W/out"
grep -q "no numbering blocks are loaded" "$W/out" || sp_fail "show on an empty plan: $(cat "$W/out")"

sp_step "batches to allocate for"
sp_psql "INSERT INTO vendors (vendor_id, name, state, agreement_ref) VALUES ('THALES-VN', 'Thales', 'connected', 'NDA-1');
INSERT INTO orders (order_id, bcycp_ref, document_sha256, vendor_id, quantity, profile, state, document, signer, received_via)
	VALUES ('ORD-2026-000001', 'BCYCP-2026-0001', repeat('a', 64), 'THALES-VN', 5000, 'usim_milenage', 'in_production', '{}', '{}', 'test');
INSERT INTO batches (batch_id, order_id, vendor_id, kind, seq, quantity, profile, state, released_at)
	SELECT 'ORD-2026-000001-B' || lpad(s::text, 3, '0'), 'ORD-2026-000001', 'THALES-VN', 'production', s, q,
	       'usim_milenage', 'released', now()
	FROM (VALUES (1, 400), (2, 100), (3, 300), (4, 200), (5, 100), (6, 7), (7, 1), (8, 1)) v(s, q);
INSERT INTO batches (batch_id, order_id, vendor_id, kind, seq, quantity, profile, state)
	VALUES ('ORD-2026-000001-P1', 'ORD-2026-000001', 'THALES-VN', 'pilot', 1, 5, 'usim_milenage', 'held'),
	       ('ORD-2026-000001-P2', 'ORD-2026-000001', 'THALES-VN', 'pilot', 2, 5, 'usim_milenage', 'failed')"
B=ORD-2026-000001-B
refused "cannot allocate 400 numbers for batch ${B}001; no IMSI block is loaded \(simpkictl numbering load\); no ICCID block is loaded" \
	"$CTL" numbering allocate ${B}001

sp_step "bad plan files are refused whole, nothing stored"
plan msin-short "imsi PKI-IMSI-1 45201 9100000000 9100999999" "imsi X 45201 910000000 910099999"
refused "msin-short.plan: line 2: an IMSI has 15 digits: prefix 45201 \(5\) \+ MSIN width 9 = 14" \
	"$CTL" numbering load "$W/msin-short.plan"
plan bad-mcc "# another country" "imsi X 45401 9100000000 9100999999"
refused "line 2: IMSI prefix 45401 must start with MCC 452" "$CTL" numbering load "$W/bad-mcc.plan"
plan bad-mnc "imsi X 45204 9100000000 9100999999"
refused "line 1: IMSI prefix 45204 must continue with MNC 01" "$CTL" numbering load "$W/bad-mnc.plan"
plan iccid-long "iccid X 89840177 000000000000 000000999999"
refused "line 1: an ICCID without its Luhn digit has 18 or 19 digits: .* = 20" \
	"$CTL" numbering load "$W/iccid-long.plan"
plan iccid-issuer "iccid X 89840477 0000000000 0000999999"
refused "line 1: ICCID prefix 89840477 must continue with issuer 01" "$CTL" numbering load "$W/iccid-issuer.plan"
plan inner-overlap "imsi A 45201 9100000000 9100999999" "imsi B 45201 9100999999 9101000000"
refused "line 2: block B .* overlaps block A on line 1" "$CTL" numbering load "$W/inner-overlap.plan"
plan reversed "iccid X 89840177 0000999999 0000000000"
refused "line 1: first serial 0000999999 is after last serial 0000000000" "$CTL" numbering load "$W/reversed.plan"
plan empty "# nothing here"
refused "the plan holds no blocks" "$CTL" numbering load "$W/empty.plan"
head -c 4096 "$CTL" >"$W/binary.plan"
refused "line 1: control character" "$CTL" numbering load "$W/binary.plan"
refused "cannot open .*/missing.plan" "$CTL" numbering load "$W/missing.plan"
head -c 2000000 /dev/zero | tr '\0' '#' >"$W/huge.plan"
refused "larger than 1048576 bytes" "$CTL" numbering load "$W/huge.plan"
sp_assert_eq "$(sp_psql 'SELECT count(*) FROM numbering_blocks')" 0 "blocks after refused files"

sp_step "the sample plan"
"$CTL" numbering load "$SAMPLE" >"$W/load.out"
grep -Eq '^PKI-IMSI-1 +imsi +452019100000000 +452019100999999 +1000000 +loaded$' "$W/load.out" ||
	sp_fail "load output: $(cat "$W/load.out")"
grep -Eq "^PKI-ICCID-1 +iccid +$(iccid 898401770000000000) +$(iccid 898401770000999999) +1000000 +loaded$" "$W/load.out" ||
	sp_fail "load output: $(cat "$W/load.out")"
grep -q "2 block(s) in $SAMPLE: 2 loaded, 0 already there" "$W/load.out" || sp_fail "load summary: $(cat "$W/load.out")"
sp_assert_eq "$(sp_psql "SELECT string_agg(block_id || ' ' || kind || ' ' || prefix || ' ' || digits || ' '
	|| first_number || ' ' || last_number || ' ' || numbers, ', ' ORDER BY block_id) FROM numbering_blocks")" \
	"PKI-ICCID-1 iccid 89840177 18 898401770000000000 898401770000999999 [898401770000000000,898401770001000000), PKI-IMSI-1 imsi 45201 15 452019100000000 452019100999999 [452019100000000,452019101000000)" \
	"stored sample plan"
# Loading the same plan again changes nothing.
"$CTL" numbering load "$SAMPLE" >"$W/load.out"
grep -q "0 loaded, 2 already there" "$W/load.out" || sp_fail "reload: $(cat "$W/load.out")"
sp_assert_eq "$(sp_psql 'SELECT count(*) FROM numbering_blocks')" 2 "blocks after a reload"

sp_step "files that clash with the loaded plan are refused whole"
# A good new block first, then the clash: neither is stored.
plan clash-imsi "iccid PKI-ICCID-9 8984017799 00000000 00000099" "imsi PKI-IMSI-2 45201 9100999000 9101000999"
refused "block PKI-IMSI-2 \(imsi 452019100999000-452019101000999\) overlaps block PKI-IMSI-1 \(imsi 452019100000000-452019100999999\) already loaded" \
	"$CTL" numbering load "$W/clash-imsi.plan"
# The same ICCIDs written with a longer prefix.
plan clash-iccid "iccid PKI-ICCID-2 898401770000 500000 599999"
refused "block PKI-ICCID-2 .* overlaps block PKI-ICCID-1 .* already loaded" "$CTL" numbering load "$W/clash-iccid.plan"
plan redefine "imsi PKI-IMSI-1 45201 9200000000 9200999999"
refused "block PKI-IMSI-1 is already loaded as imsi 452019100000000-452019100999999 .* a loaded block is never redefined" \
	"$CTL" numbering load "$W/redefine.plan"
# A second, 19-digit ICCID block beside the first is fine.
plan extra "# spare ICCIDs, 20 digits with Luhn" "iccid PKI-ICCID-2 898401 7700000000000 7700000000999"
"$CTL" numbering load "$W/extra.plan" >"$W/load.out"
grep -q "1 loaded, 0 already there" "$W/load.out" || sp_fail "extra block: $(cat "$W/load.out")"
sp_assert_eq "$(sp_psql "SELECT digits || ' ' || first_number FROM numbering_blocks WHERE block_id = 'PKI-ICCID-2'")" \
	"19 8984017700000000000" "the 19-digit block"

sp_step "refusals of the C API store nothing"
"$CHECK" api >"$W/api.out" 2>"$W/api.err" || sp_fail "numbering_check api: $(cat "$W/api.err")"
cat "$W/api.out" >&2

sp_step "the database guards the plan itself"
rc=0
sp_psql "UPDATE numbering_blocks SET last_number = last_number - 1 WHERE block_id = 'PKI-IMSI-1'" 2>"$W/err" || rc=$?
[ "$rc" -ne 0 ] && grep -q "a loaded block is never redefined" "$W/err" || sp_fail "block update: $(cat "$W/err")"
rc=0
sp_psql "INSERT INTO numbering_blocks (block_id, kind, prefix, digits, first_number, last_number)
	VALUES ('X', 'imsi', '45201', 15, 452019100999999, 452019101000000)" 2>"$W/err" || rc=$?
[ "$rc" -ne 0 ] && grep -q "conflicting key value violates exclusion constraint" "$W/err" ||
	sp_fail "overlapping block by SQL: $(cat "$W/err")"

# allocated BATCH IMSI_FIRST IMSI_LAST ICCID_FIRST_NO_LUHN ICCID_LAST_NO_LUHN STATUS
allocated() {
	"$CTL" numbering allocate "$1" >"$W/alloc.out" || sp_fail "allocate $1: $(cat "$W/alloc.out")"
	sp_assert_eq "$(awk '$1 == "imsi" {print $2, $3, $4}' "$W/alloc.out")" "$2 $3 PKI-IMSI-1" "IMSIs of $1"
	sp_assert_eq "$(awk '$1 == "iccid" {print $2, $3, $4}' "$W/alloc.out")" "$(iccid "$4") $(iccid "$5") PKI-ICCID-1" "ICCIDs of $1"
	sp_assert_eq "$(awk '$1 == "status" {$1 = ""; print substr($0, 2)}' "$W/alloc.out")" "$6" "status of $1"
	sp_assert_eq "$(sp_psql "SELECT imsi_range || ' ' || iccid_range FROM batch_allocations WHERE batch_id = '$1'")" \
		"[$2,$(($3 + 1))) [$4,$(($5 + 1)))" "stored ranges of $1"
}

sp_step "allocation: lowest numbers first, contiguous, idempotent"
allocated ${B}001 452019100000000 452019100000399 898401770000000000 898401770000000399 allocated
allocated ${B}001 452019100000000 452019100000399 898401770000000000 898401770000000399 "already allocated"
sp_assert_eq "$(sp_psql "SELECT count(*) FROM batch_allocations")" 1 "allocations after a repeat"
grep -q "^quantity  400$" "$W/alloc.out" || sp_fail "quantity line: $(cat "$W/alloc.out")"
# The next batch starts right after: adjacent, not overlapping.
allocated ${B}002 452019100000400 452019100000499 898401770000000400 898401770000000499 allocated
sp_assert_eq "$(sp_psql "SELECT (a.imsi_range -|- b.imsi_range) AND (a.iccid_range -|- b.iccid_range)
	AND NOT (a.imsi_range && b.imsi_range) AND NOT (a.iccid_range && b.iccid_range)
	FROM batch_allocations a, batch_allocations b WHERE a.batch_id = '${B}001' AND b.batch_id = '${B}002'")" t \
	"adjacent batches touch and do not overlap"

sp_step "allocation refusals write nothing"
refused "batch NO-SUCH-BATCH does not exist" "$CTL" numbering allocate NO-SUCH-BATCH
refused "batch ORD-2026-000001-P1 is held until its vendor's pilot passes" "$CTL" numbering allocate ORD-2026-000001-P1
refused "batch ORD-2026-000001-P2 is a failed pilot: it gets no numbers" "$CTL" numbering allocate ORD-2026-000001-P2
sp_psql "UPDATE batches SET quantity = 401 WHERE batch_id = '${B}001'"
refused "batch ${B}001 already has 400 numbers allocated, not 401" "$CTL" numbering allocate ${B}001
sp_psql "UPDATE batches SET quantity = 400 WHERE batch_id = '${B}001'"

sp_step "the lowest gap that fits"
# Free the first 400 (as if that allocation had never been), then fill
# the hole: 300 fit there, 200 no longer do, 100 fill it exactly.
sp_psql "DELETE FROM batch_allocations WHERE batch_id = '${B}001'"
allocated ${B}003 452019100000000 452019100000299 898401770000000000 898401770000000299 allocated
allocated ${B}004 452019100000500 452019100000699 898401770000000500 898401770000000699 allocated
allocated ${B}005 452019100000300 452019100000399 898401770000000300 898401770000000399 allocated
allocated ${B}001 452019100000700 452019100001099 898401770000000700 898401770000001099 allocated
allocated ${B}006 452019100001100 452019100001106 898401770000001100 898401770000001106 allocated

sp_step "the database refuses ranges outside the plan or overlapping"
rc=0
sp_psql "INSERT INTO batch_allocations (batch_id, imsi_block, iccid_block, imsi_range, iccid_range, quantity)
	VALUES ('${B}007', 'PKI-IMSI-1', 'PKI-ICCID-1', int8range(452019101000000, 452019101000001),
	        int8range(898401770000500000, 898401770000500001), 1)" 2>"$W/err" || rc=$?
[ "$rc" -ne 0 ] && grep -q "are not inside blocks PKI-IMSI-1 and PKI-ICCID-1" "$W/err" || sp_fail "outside: $(cat "$W/err")"
rc=0
sp_psql "INSERT INTO batch_allocations (batch_id, imsi_block, iccid_block, imsi_range, iccid_range, quantity)
	VALUES ('${B}007', 'PKI-ICCID-1', 'PKI-IMSI-1', int8range(898401770000500000, 898401770000500001),
	        int8range(452019100500000, 452019100500001), 1)" 2>"$W/err" || rc=$?
[ "$rc" -ne 0 ] && grep -q "are not inside blocks" "$W/err" || sp_fail "blocks of the wrong kind: $(cat "$W/err")"
rc=0
sp_psql "INSERT INTO batch_allocations (batch_id, imsi_block, iccid_block, imsi_range, iccid_range, quantity)
	VALUES ('${B}007', 'PKI-IMSI-1', 'PKI-ICCID-1', int8range(452019100001106, 452019100001107),
	        int8range(898401770000500000, 898401770000500001), 1)" 2>"$W/err" || rc=$?
[ "$rc" -ne 0 ] && grep -q 'violates exclusion constraint "batch_allocations_imsi_range_excl"' "$W/err" ||
	sp_fail "overlap by SQL: $(cat "$W/err")"

sp_step "concurrency: two processes of four threads allocate at once"
"$CHECK" race RACE-A 60 4 >"$W/race-a.out" 2>"$W/race-a.err" &
RA=$!
"$CHECK" race RACE-B 60 4 >"$W/race-b.out" 2>"$W/race-b.err" &
RB=$!
rca=0 rcb=0
wait $RA || rca=$?
wait $RB || rcb=$?
[ "$rca" -eq 0 ] || sp_fail "race A: $(cat "$W/race-a.err")"
[ "$rcb" -eq 0 ] || sp_fail "race B: $(cat "$W/race-b.err")"
cat "$W/race-a.out" "$W/race-b.out" >&2
"$CHECK" collide RACE-C >"$W/collide.out" 2>"$W/collide.err" || sp_fail "collide: $(cat "$W/collide.err")"
cat "$W/collide.out" >&2
sp_assert_eq "$(sp_psql "SELECT count(*) FROM batch_allocations a JOIN batch_allocations b
	ON a.batch_id < b.batch_id AND (a.imsi_range && b.imsi_range OR a.iccid_range && b.iccid_range)")" 0 \
	"overlapping allocations"
sp_assert_eq "$(sp_psql "SELECT count(*) FROM batches b JOIN batch_allocations a USING (batch_id)
	WHERE b.batch_id LIKE 'RACE-%' AND a.quantity = b.quantity
	AND upper(a.imsi_range) - lower(a.imsi_range) = b.quantity
	AND upper(a.iccid_range) - lower(a.iccid_range) = b.quantity")" 122 \
	"race batches allocated with exactly their quantity"
sp_assert_eq "$(sp_psql "SELECT count(*) FROM batches WHERE batch_id LIKE 'RACE-%'")" 122 "race batches"
sp_assert_eq "$(sp_psql "SELECT count(*) FROM batch_allocations a
	JOIN numbering_blocks i ON i.block_id = a.imsi_block AND i.kind = 'imsi' AND i.numbers @> a.imsi_range
	JOIN numbering_blocks c ON c.block_id = a.iccid_block AND c.kind = 'iccid' AND c.numbers @> a.iccid_range")" \
	"$(sp_psql "SELECT count(*) FROM batch_allocations")" "allocations inside their blocks"
# Lowest gap first: from the block's first number on, nothing is left free.
sp_assert_eq "$(sp_psql "SELECT sum(quantity) = max(upper(imsi_range)) - 452019100000000
	AND sum(quantity) = max(upper(iccid_range)) - 898401770000000000 FROM batch_allocations")" t \
	"allocations packed from the start of the blocks"

sp_step "exhaustion names the free space"
# Punch a 7-number hole, then ask for one more than the largest gap.
sp_psql "DELETE FROM batch_allocations WHERE batch_id = '${B}006'"
read -r FREE LARGEST LFIRST <<<"$(sp_psql "SELECT 1000000 - sum(quantity), 452019101000000 - max(upper(imsi_range)),
	max(upper(imsi_range)) FROM batch_allocations" | tr '|' ' ')"
sp_assert_eq "$FREE" "$((LARGEST + 7))" "free numbers with the hole"
sp_psql "UPDATE batches SET quantity = $((LARGEST + 1)) WHERE batch_id = '${B}007'"
refused "cannot allocate $((LARGEST + 1)) numbers for batch ${B}007; no IMSI block has $((LARGEST + 1)) free numbers in a row: PKI-IMSI-1 has $FREE free, the largest gap $LARGEST from $LFIRST; no ICCID block has $((LARGEST + 1)) free numbers in a row: PKI-ICCID-1 has $FREE free, the largest gap $LARGEST from $(iccid $((LFIRST - 452019100000000 + 898401770000000000))); PKI-ICCID-2 has 1000 free, the largest gap 1000 from $(iccid 8984017700000000000)" \
	"$CTL" numbering allocate ${B}007
# Exactly the largest gap fits; then only the hole is left.
sp_psql "UPDATE batches SET quantity = $LARGEST WHERE batch_id = '${B}007'"
"$CTL" numbering allocate ${B}007 >/dev/null || sp_fail "allocating the largest gap"
"$CTL" numbering show >"$W/show.out"
grep -Eq "^PKI-IMSI-1 +imsi +452019100000000 +452019100999999 +1000000 +999993 +7 +7 +[0-9]+$" "$W/show.out" ||
	sp_fail "show: $(cat "$W/show.out")"
grep -Eq "^PKI-ICCID-2 +iccid +$(iccid 8984017700000000000) +$(iccid 8984017700000000999) +1000 +0 +1000 +1000 +0$" "$W/show.out" ||
	sp_fail "show: $(cat "$W/show.out")"
sp_psql "UPDATE batches SET quantity = 8 WHERE batch_id = '${B}006'"
refused "no IMSI block has 8 free numbers in a row: PKI-IMSI-1 has 7 free, the largest gap 7 from 452019100001100$" \
	"$CTL" numbering allocate ${B}006
sp_psql "UPDATE batches SET quantity = 7 WHERE batch_id = '${B}006'"
allocated ${B}006 452019100001100 452019100001106 898401770000001100 898401770000001106 allocated
"$CTL" numbering show >"$W/show.out"
grep -Eq "^PKI-IMSI-1 +imsi .* 1000000 +1000000 +0 +0 +[0-9]+$" "$W/show.out" || sp_fail "show when full: $(cat "$W/show.out")"
refused "cannot allocate 1 numbers for batch ${B}008; no IMSI block has 1 free numbers in a row: PKI-IMSI-1 is full$" \
	"$CTL" numbering allocate ${B}008

sp_step "ok"
