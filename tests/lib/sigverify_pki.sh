# tests/lib/sigverify_pki.sh - a throw-away test PKI for the sigverify
# tests, built with the openssl command at test time (sourced), on the
# helpers of deploy/local/lib/pki.sh.
#
#   sp_svpki_build DIR     # CAs, signers, CRLs, trust/ crl/ pool/ folders
#   sp_svpki_sign DIR NAME IN OUT [openssl cms options...]
#
# Layout under DIR:
#   root/  the trusted root         sub/  its sub-CA (issues the signers)
#   sub2/  a second sub-CA of root, in no CMS and no pool (missing link)
#   other/ a root nobody trusts, with its own signer
#   trust/ root.pem                 crl/   root.crl, sub.crl, sub2.crl
#   pool/  (empty: tests copy sub.pem in when they need it)
#   signers: NAME.pem NAME.key for valid, expired, notyet, revoked,
#            keyenc (keyEncipherment only), rsa1024, orphan (issued by
#            sub2), stranger (issued by other)

# shellcheck source=../../deploy/local/lib/pki.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")/../../deploy/local/lib" && pwd)/pki.sh"

sp_svpki_crls() { # DIR: (re)issue every CA's CRL into DIR/crl
	local d=$1 ca
	for ca in root sub sub2; do
		_sp_svpki_ossl ca -config "$d/$ca/ca.cnf" -gencrl -out "$d/crl/$ca.crl"
	done
}

sp_svpki_build() {
	local d=$1
	mkdir -p "$d/trust" "$d/crl" "$d/pool"
	_sp_svpki_root "$d/root" "Test Root CA" &&
		_sp_svpki_sub "$d/root" "$d/sub" "Test Sub CA" &&
		_sp_svpki_sub "$d/root" "$d/sub2" "Test Sub CA 2" &&
		_sp_svpki_root "$d/other" "Unknown Root CA" || return 1
	cp "$d/root/ca.pem" "$d/trust/root.pem"
	cp "$d/sub/ca.pem" "$d/sub.pem"
	cp "$d/sub2/ca.pem" "$d/sub2.pem"
	_sp_svpki_issue "$d/sub" "$d/valid" "Valid Signer" signer 2048 -days 365 &&
		_sp_svpki_issue "$d/sub" "$d/expired" "Expired Signer" signer 2048 \
			-startdate 20200101000000Z -enddate 20210101000000Z &&
		_sp_svpki_issue "$d/sub" "$d/notyet" "Future Signer" signer 2048 \
			-startdate 20990101000000Z -enddate 21000101000000Z &&
		_sp_svpki_issue "$d/sub" "$d/revoked" "Revoked Signer" signer 2048 -days 365 &&
		_sp_svpki_issue "$d/sub" "$d/keyenc" "Encryption Only" keyenc 2048 -days 365 &&
		_sp_svpki_issue "$d/sub" "$d/rsa1024" "Weak Key Signer" signer 1024 -days 365 &&
		_sp_svpki_issue "$d/sub2" "$d/orphan" "Orphan Signer" signer 2048 -days 365 &&
		_sp_svpki_issue "$d/other" "$d/stranger" "Stranger Signer" signer 2048 -days 365 &&
		_sp_svpki_ossl ca -config "$d/sub/ca.cnf" -revoke "$d/revoked.pem" -crl_reason keyCompromise &&
		sp_svpki_crls "$d"
}

