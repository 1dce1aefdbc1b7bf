# batches.sh - test fixtures for what comes after B4: SIMs produced by the
# vendor simulator and ingested, ready for the HLR and the regions.
# Needs harness.sh and sigverify_pki.sh sourced and a stack up.
#
#   sp_batches_init DIR          keys, numbering, a test PKI (exports the
#                                SIMPKI_* variables vendor-exchange needs)
#   sp_order VENDOR REF QTY PROFILE [PILOT]
#                                an order, its id printed; a vendor new to
#                                the test gets an agreement and a pilot of
#                                PILOT SIMs (default 5), passed at once
#   sp_batch_produce BATCH KEYS  input file, simulated output, ingest; the
#                                SIMs' keys ("ICCID KI OPC|-") go to KEYS

sp_batches_init() {
	SP_BATCH_DIR=$1
	mkdir -p "$SP_BATCH_DIR"
	SP_CTL=$(sp_bin simpkictl)
	export SIMPKI_VENDOR_DIR=$SIMPKI_STACK_DIR/vendors
	export SIMPKI_TRANSPORT_KEY_DIR=$SIMPKI_STACK_DIR/transport-keys
	export SIMPKI_KEK_FILE=$SIMPKI_STACK_DIR/kek/keys
	export SIMPKI_ORDER_MAX_BATCH=${SIMPKI_ORDER_MAX_BATCH:-5000}
	export SIMPKI_OPERATOR=${SIMPKI_OPERATOR:-test-khcn}
	mkdir -p "$SIMPKI_TRANSPORT_KEY_DIR" "$(dirname "$SIMPKI_KEK_FILE")" "$SIMPKI_VENDOR_DIR"
	chmod 700 "$SIMPKI_TRANSPORT_KEY_DIR" "$(dirname "$SIMPKI_KEK_FILE")"
	"$SP_CTL" kek new --id kek-test-1 --file "$SIMPKI_KEK_FILE" >/dev/null ||
		sp_fail "sp_batches_init: kek new"
	"$SP_CTL" numbering load "$SIMPKI_SOURCE_DIR/deploy/local/numbering.sample" >/dev/null ||
		sp_fail "sp_batches_init: numbering load"
	SP_BATCH_PKI=$SIMPKI_STACK_DIR/pki
	[ -d "$SP_BATCH_PKI/trust" ] || sp_svpki_build "$SP_BATCH_PKI" || sp_fail "sp_batches_init: test PKI"
	export SIMPKI_SIG_TRUST_DIR=$SP_BATCH_PKI/trust SIMPKI_SIG_CRL_DIR=$SP_BATCH_PKI/crl
}

sp_order() {
	local vendor=$1 ref=$2 qty=$3 profile=$4 pilot="" tk
	tk=$SIMPKI_TRANSPORT_KEY_DIR/$vendor.key
	if [ ! -f "$tk" ]; then
		pilot=", \"pilot_quantity\": ${5:-5}"
		openssl rand -hex 32 >"$tk"
		chmod 600 "$tk"
		"$SP_CTL" vendor add "$vendor" --name "$vendor (test)" >/dev/null ||
			sp_fail "sp_order: vendor add $vendor"
		"$SP_CTL" vendor agreement "$vendor" --ref "NDA-$vendor" --date 2026-11-01 \
			--signed-by "Ban KHDN" >/dev/null || sp_fail "sp_order: agreement $vendor"
	fi
	cat >"$SP_BATCH_DIR/$ref.json" <<JSON
{"bcycp_ref": "$ref", "issued_on": "2026-11-20", "vendor": "$vendor", "quantity": $qty,
 "profile": "$profile"$pilot, "contact": {"name": "Nguyễn Văn An", "email": "an@bcy.gov.vn"}}
JSON
	sp_svpki_sign "$SP_BATCH_PKI" valid "$SP_BATCH_DIR/$ref.json" "$SP_BATCH_DIR/$ref.p7s" \
		-certfile "$SP_BATCH_PKI/sub.pem" -outform DER || sp_fail "sp_order: sign $ref"
	"$SP_CTL" order submit "$SP_BATCH_DIR/$ref.json" --signature "$SP_BATCH_DIR/$ref.p7s" >/dev/null ||
		sp_fail "sp_order: submit $ref"
	# A new vendor's pilot is passed at once (its SIMs may still be used).
	if [ "$(sp_psql "SELECT state FROM vendors WHERE vendor_id = '$vendor'")" = pilot_running ]; then
		"$SP_CTL" vendor pilot-pass "$vendor" --evidence "pilot passed (test)" >/dev/null ||
			sp_fail "sp_order: pilot-pass $vendor"
	fi
	sp_psql "SELECT order_id FROM orders WHERE bcycp_ref = '$ref'"
}

sp_batch_produce() {
	local batch=$1 keys=$2 vendor inp out
	vendor=$(sp_psql "SELECT vendor_id FROM batches WHERE batch_id = '$batch'")
	[ -n "$vendor" ] || sp_fail "sp_batch_produce: no batch $batch"
	"$SP_CTL" vendor input "$batch" >/dev/null || sp_fail "sp_batch_produce: input $batch"
	inp=$SIMPKI_VENDOR_DIR/$vendor/outgoing/$batch.inp
	out=$SP_BATCH_DIR/$batch.out
	"$SP_CTL" vendor simulate "$inp" --transport-key "$SIMPKI_TRANSPORT_KEY_DIR/$vendor.key" \
		-o "$out" --reveal-keys "$out.keys" >/dev/null || sp_fail "sp_batch_produce: simulate $batch"
	"$SP_CTL" vendor ingest "$out" >"$out.json" || sp_fail "sp_batch_produce: ingest $batch: $(cat "$out.json")"
	grep -q '"verdict":"accepted"' "$out.json" || sp_fail "sp_batch_produce: $batch not accepted: $(cat "$out.json")"
	cat "$out.keys" >>"$keys"
	rm -f "$out"
}
