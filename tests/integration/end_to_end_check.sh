#!/usr/bin/env bash
# end_to_end_check.sh - run by test_end_to_end.sh through
# `deploy/local/run --then`, while the run's stack is still up: asserts the
# final state from the outside (PostgreSQL, OsmoHLR over CTRL, the files,
# the SMTP sink, the fake SMSC, the reports and every topic).
# Needs the stack's variables, SIMPKI_RUN_DIR, SIMPKI_RUN_REVEAL_KEYS and
# SIMPKI_SOURCE_DIR / SIMPKI_BUILD_DIR.
set -euo pipefail
source "$SIMPKI_SOURCE_DIR/tests/lib/harness.sh"
RUN=$SIMPKI_RUN_DIR
W=$RUN/check
mkdir -p "$W"
PY=/usr/bin/python3
# shellcheck disable=SC1091
source "$RUN/run/ids"
Q=${SIMPKI_RUN_QUANTITY:-1000}
HALF=$((Q * 3 / 5))
CTL=$(sp_bin simpkictl)

sp_step "every SIM's state"
sp_assert_eq "$(sp_psql "SELECT string_agg(batch_id || ':' || state || '=' || n, ' ' ORDER BY batch_id, state) FROM (SELECT batch_id, state, count(*) n FROM sims GROUP BY 1, 2) s")" \
	"$PROD_BATCH:at_shop=198 $PROD_BATCH:delivered=2 $PROD_BATCH:in_stock=$((Q - 200)) $PILOT_BATCH:at_shop=4 $PILOT_BATCH:connected=1" \
	"SIMs per batch and state"
sp_assert_eq "$(sp_psql "SELECT string_agg(ctkv_id || '/' || coalesce(shop_id, '-') || '/' || state || '=' || n, ' ' ORDER BY ctkv_id, shop_id, state) FROM (SELECT ctkv_id, shop_id, state, count(*) n FROM sims WHERE batch_id = '$PROD_BATCH' GROUP BY 1, 2, 3) s")" \
	"CTKV1/HNI-001/at_shop=99 CTKV1/HNI-001/delivered=1 CTKV1/-/in_stock=$((HALF - 100)) CTKV2/HCM-001/at_shop=99 CTKV2/HCM-001/delivered=1 CTKV2/-/in_stock=$((Q - HALF - 100))" \
	"where the production SIMs are"
sp_assert_eq "$(sp_psql "SELECT state FROM sims WHERE iccid IN ('$SWAP_ICCID', '$NEW_ICCID') GROUP BY state")" delivered "the two customers' SIMs"
sp_assert_eq "$(sp_psql "SELECT string_agg(state || '=' || n, ' ' ORDER BY state) FROM (SELECT state, count(*) n FROM connection_cases GROUP BY 1) s")" \
	"connected=2 open=3" "connection cases"
sp_assert_eq "$(sp_psql "SELECT count(*) FROM sla_cases WHERE closed_at IS NULL AND breached_at IS NULL")" 3 "open A5 deadlines"
sp_assert_eq "$(sp_psql "SELECT string_agg(state, ',' ORDER BY msisdn) FROM numbers WHERE iccid IS NOT NULL")" "assigned,assigned" "numbers taken from the pool (the pilot line, the new number)"

sp_step "the HLR read back over CTRL: auth data of every SIM, the MSISDNs"
sp_psql "SELECT iccid || ' ' || imsi FROM sims ORDER BY iccid" >"$W/sims.txt"
cat "$SIMPKI_RUN_REVEAL_KEYS".* >"$W/keys.txt"
sp_psql "SELECT s.imsi || ' ' || c.msisdn FROM connections c JOIN sims s USING (iccid) WHERE c.state = 'done' ORDER BY 1" >"$W/msisdns.txt"
$PY - "$SIMPKI_SOURCE_DIR/deploy/local/lib/hlr_ctrl.py" "$SIMPKI_HLR_CTRL" "$W/sims.txt" "$W/keys.txt" \
	"$W/msisdns.txt" "$OLD_IMSI" <<'PYEOF' || sp_fail "the HLR's content differs"
import importlib.util, socket, struct, sys, time
spec = importlib.util.spec_from_file_location("hlr_ctrl", sys.argv[1])
ctrl = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ctrl)
host, port = sys.argv[2].rsplit(":", 1)
sims = [l.split() for l in open(sys.argv[3]) if l.strip()]
keys = {}
for l in open(sys.argv[4]):
    f = l.split()
    if len(f) >= 3:
        keys[f[0]] = (f[1].lower(), f[2].lower())
msisdn = dict(l.split() for l in open(sys.argv[5]) if l.strip())
old_imsi = sys.argv[6]
s = socket.create_connection((host, int(port)), timeout=5)
n = 0
def get(var):
    global n
    n += 1
    data = bytes([ctrl.IPA_EXT_CTRL]) + ("GET %d %s" % (n, var)).encode()
    s.sendall(struct.pack(">HB", len(data), ctrl.IPA_STREAM_OSMO) + data)
    deadline = time.monotonic() + 5
    while True:
        length, stream = struct.unpack(">HB", ctrl.recv_exact(s, 3, deadline))
        p = ctrl.recv_exact(s, length, deadline)
        if stream != ctrl.IPA_STREAM_OSMO or not p or p[0] != ctrl.IPA_EXT_CTRL:
            continue
        kind, rid, rest = (p[1:].decode() + "  ").split(" ", 2)
        if rid != str(n):
            continue
        if kind != "GET_REPLY":
            raise SystemExit("GET %s: %s" % (var, p[1:].decode()))
        return rest.split(" ", 1)[1].strip() if " " in rest else ""
bad = []
assert len(sims) == len(keys), (len(sims), len(keys))
for iccid, imsi in sims:
    aud = dict(l.split(None, 1) for l in get("subscriber.by-imsi-%s.info-aud" % imsi).splitlines() if len(l.split()) == 2)
    k, opc = keys[iccid]
    if aud.get("aud3g.algo") != "MILENAGE" or aud.get("aud3g.k", "").lower() != k or aud.get("aud3g.opc", "").lower() != opc:
        bad.append("%s: auth data differ from the vendor's" % imsi)
    want = msisdn.get(imsi, "none")
    got = get("subscriber.by-imsi-%s.msisdn" % imsi)
    if got != want:
        bad.append("%s: msisdn %s, expected %s" % (imsi, got, want))
got = get("subscriber.by-imsi-%s.msisdn" % old_imsi)
if got != "none":
    bad.append("the customer's old SIM %s still has %s" % (old_imsi, got))
for b in bad[:20]:
    print(b, file=sys.stderr)
print("HLR: %d subscribers read back, %d with a number, %d problems" % (len(sims), len(msisdn), len(bad)), file=sys.stderr)
sys.exit(1 if bad else 0)
PYEOF
sp_assert_eq "$(awk -v i="$(sp_psql "SELECT imsi FROM sims WHERE iccid = '$SWAP_ICCID'")" '$1 == i { print $2 }' "$W/msisdns.txt")" \
	"$SWAP_MSISDN" "the swapped SIM holds the customer's number"

sp_step "the vendor files"
V=$SIMPKI_VENDOR_DIR/SAOVIET
sp_assert_eq "$(cd "$V/outgoing" && ls)" "$(printf '%s.inp\n%s.inp' "$PROD_BATCH" "$PILOT_BATCH")" "input files"
sp_assert_eq "$(cd "$V/processed" && ls)" "$(printf '%s.out\n%s.out' "$PROD_BATCH" "$PILOT_BATCH")" "output files filed as processed"
[ -z "$(ls -A "$V/incoming")" ] || sp_fail "files left in incoming: $(ls -A "$V/incoming")"
[ ! -d "$V/rejected" ] || [ -z "$(ls -A "$V/rejected")" ] || sp_fail "rejected files: $(ls -A "$V/rejected")"
for f in "$V"/outgoing/*.inp; do
	b=$(basename "$f" .inp)
	sp_assert_eq "$(sha256sum <"$f" | cut -d' ' -f1)" "$(sp_psql "SELECT input_sha256 FROM batch_files WHERE batch_id = '$b'")" "$b's input file is the one recorded"
done

sp_step "the e-mails the SMTP sink received"
$PY - "$SIMPKI_SMTP_MAILDIR" >"$W/mails.txt" <<'PYEOF'
import email, email.policy, glob, sys
for f in sorted(glob.glob(sys.argv[1] + "/*.eml")):
    m = email.message_from_binary_file(open(f, "rb"), policy=email.policy.default)
    print("%s|%s" % (m["To"].addresses[0].addr_spec, m["Subject"]))
PYEOF
sp_assert_eq "$(wc -l <"$W/mails.txt")" "$(sp_psql "SELECT count(*) FROM notifications WHERE channel = 'email' AND state = 'sent'")" "e-mails received = e-mails sent"
sp_assert_eq "$(cut -d'|' -f1 "$W/mails.txt" | sort | uniq -c | awk '{print $2 "=" $1}' | tr '\n' ' ')" \
	"an.nv@bcy.gov.vn=1 ban.khcn@mobifone.example=2 ban.khdn@mobifone.example=3 ctkv1@mobifone.example=2 ctkv2@mobifone.example=1 " \
	"who got e-mail (order accepted; 2 HLR reports to each Ban; the pilot result; 3 handovers)"
grep -q "^ctkv2@mobifone.example|.*$((Q - HALF)) SIM PKI cho CTKV2" "$W/mails.txt" || sp_fail "CTKV2's handover mail: $(grep ctkv2 "$W/mails.txt")"

sp_step "the SMS the fake SMSC received"
# Texts are not printed: the account SMS carry passwords.
$PY "$SIMPKI_SOURCE_DIR/deploy/local/lib/fakesmsc_decode.py" --json "$SIMPKI_KANNEL_SMSC_LOG" >"$W/sms.jsonl"
PILOT_MSISDN=$(sp_psql "SELECT c.msisdn FROM connections c JOIN sims s USING (iccid) WHERE s.batch_id = '$PILOT_BATCH' AND c.state = 'done'")
sp_assert_eq "$($PY -c 'import json,sys,collections
c = collections.Counter(json.loads(l)["to"].lstrip("+") for l in open(sys.argv[1]))
print(" ".join("%s=%d" % kv for kv in sorted(c.items())))' "$W/sms.jsonl")" \
	"$(printf '%s=2\n%s=2\n%s=2\n' "$PILOT_MSISDN" "$NEW_MSISDN" "$SWAP_MSISDN" | sort | tr '\n' ' ' | sed 's/ $//')" \
	"SMS per customer (connection done; account password)"
$PY -c 'import json,sys
texts = [json.loads(l)["text"] for l in open(sys.argv[1]) if json.loads(l)["to"].lstrip("+") == sys.argv[2]]
assert any("tai khoan ky so SIM PKI" in t and ("dang nhap: " + sys.argv[2]) in t for t in texts), "no account SMS"
' "$W/sms.jsonl" "$SWAP_MSISDN" || sp_fail "the account SMS to $SWAP_MSISDN is missing"

sp_step "invoices and the reconciliation report"
$PY - "$RUN/out/invoices" "$SIMPKI_DB_URL" <<'PYEOF' || sp_fail "invoices"
import glob, json, subprocess, sys
tariffs = {}
out = subprocess.run(["psql", "-X", "-A", "-t", "-q", sys.argv[2], "-c",
                      "SELECT package_id, connection_fee, package_price FROM tariffs"],
                     check=True, capture_output=True, text=True).stdout
for l in out.split():
    t, fee, price = l.split("|")
    tariffs[t] = (int(fee), int(price))
inv = [json.load(open(f)) for f in sorted(glob.glob(sys.argv[1] + "/*.json"))]
assert len(inv) == 2, len(inv)
for i in inv:
    assert sum(l["amount"] for l in i["lines"]) == i["subtotal"], i
    assert i["vat"] == i["subtotal"] * i["vat_rate"] // 100 and i["total"] == i["subtotal"] + i["vat"], i
    assert any((i["lines"][0]["unit_price"], i["lines"][1]["unit_price"]) == v for v in tariffs.values()), (i, tariffs)
assert sorted(i["seller"]["ctkv"] for i in inv) == ["CTKV1", "CTKV2"]
assert sorted(i["total"] for i in inv) == [715000, 1705000], [i["total"] for i in inv]
for f in glob.glob(sys.argv[1] + "/*.html"):
    assert "HÓA ĐƠN" in open(f, encoding="utf-8").read(), f
PYEOF
REC=$RUN/out/reports/reconcile-BCYCP-2026-QD-0417.json
sp_psql "SELECT batch_id || ' ' || state || ' ' || count(*) FROM sims GROUP BY batch_id, state" >"$W/own.txt"
$PY - "$REC" "$W/own.txt" "$ORDER_ID" <<'PYEOF' || sp_fail "the reconciliation report differs from the SIM rows"
import json, sys
r = json.load(open(sys.argv[1]))
own = {}
for line in open(sys.argv[2]):
    b, st, n = line.split()
    own.setdefault(b, {})[st] = int(n)
(o,) = r["orders"]
assert o["order_id"] == sys.argv[3], o
got = {b["batch_id"]: {k: v for k, v in b["states"].items() if v} for b in o["batches"]}
assert got == own, (got, own)
inv = r["total"]["invoiced"]
assert (inv["invoices"], inv["total"], inv["paid"], inv["debt"]) == (2, 2420000, 2420000, 0), inv
PYEOF
grep -q "^total," "$RUN/out/reports/reconcile-BCYCP-2026-QD-0417.csv" || sp_fail "the CSV report has no total"

sp_step "events on every topic: each step's, valid, chained, in order per subject"
TOPICS="orders vendors batches registrations sims connections notifications accounts"
EV=$W/events
mkdir -p "$EV"
for t in $TOPICS; do
	"$CTL" events dump --topic "$t" >"$EV/$t.jsonl" 2>"$W/dump.err" || sp_fail "events dump $t: $(cat "$W/dump.err")"
done
$PY "$SIMPKI_SOURCE_DIR/tests/lib/validate_events.py" "$EV"/*.jsonl >&2 || sp_fail "events fail their schemas"
# Hash chains across the topics, the workflow's rules, and the state the
# events make against PostgreSQL (tampering is test_audit_replay.sh's).
"$CTL" audit replay --against-db >"$W/audit.txt" 2>"$W/audit.err" ||
	sp_fail "audit replay: $(tail -20 "$W/audit.txt") $(tail -5 "$W/audit.err")"
grep -q "CLEAN" "$W/audit.txt" || sp_fail "audit replay: $(tail -20 "$W/audit.txt")"
$PY - "$EV" "$PROD_BATCH" "$PILOT_BATCH" $TOPICS <<'PYEOF' || sp_fail "events per step"
import collections, json, sys
w, prod, pilot, topics = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
evs = [json.loads(l) for t in topics for l in open("%s/%s.jsonl" % (w, t)) if l.strip()]
# A relay stopped between publishing and moving its cursor publishes the
# same events again (the same id and bytes; audit replay proves the copies
# alike): each event counts once.
evs = list({e["id"]: e for e in evs}.values())
n = collections.Counter(e["type"] for e in evs)
want = {"registration.imported": 1, "case.opened": 5, "vendor.registered": 1,
        "vendor.agreement_recorded": 1, "order.accepted": 1, "vendor.pilot_started": 1,
        "vendor.pilot_passed": 1, "batch.released": 2, "batch.held": 1,
        "batch.input_issued": 2, "batch.output_accepted": 2, "batch.provisioned": 2,
        "sims.handed_over": 3, "sims.stocked_in": 3, "sims.transferred": 3,
        "connection.requested": 3, "connection.hlr_done": 3, "sim.connected": 3,
        "case.closed": 2, "sim.sold": 2, "sim.delivered": 2, "account.created": 3}
wrong = {t: (n.get(t, 0), c) for t, c in want.items() if n.get(t, 0) != c}
assert not wrong, "type: (seen, expected) %s" % wrong
assert n["notification.sent"] >= 12, n["notification.sent"]
assert not [t for t in n if t.endswith("failed") or t.endswith("rejected")], n
# One batch's life, in chain order: released, input, output, provisioned.
def life(batch):
    chain = {e["prevhash"]: e for e in evs if e["subject"] == "batch/" + batch}
    at, types = "0" * 64, []
    while at in chain:
        types.append(chain[at]["type"])
        at = chain[at]["hash"]
    return types
assert life(prod) == ["batch.held", "batch.released", "batch.input_issued",
                      "batch.output_accepted", "batch.provisioned"], life(prod)
assert life(pilot)[:4] == ["batch.released", "batch.input_issued", "batch.output_accepted",
                           "batch.provisioned"], life(pilot)
print("events: %d, %d types" % (len(evs), len(n)), file=sys.stderr)
PYEOF
echo "ok - end-to-end state checked" >&2
