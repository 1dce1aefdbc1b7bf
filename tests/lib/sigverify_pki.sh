# tests/lib/sigverify_pki.sh - a throw-away test PKI for the sigverify
# tests, built with the openssl command at test time (sourced).
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

_sp_svpki_cnf() { # DIR: an openssl ca configuration for the CA in DIR
	cat >"$1/ca.cnf" <<CNF
[ca]
default_ca = ca_default
[ca_default]
dir = $1
database = \$dir/index.txt
new_certs_dir = \$dir/newcerts
serial = \$dir/serial
crlnumber = \$dir/crlnumber
certificate = \$dir/ca.pem
private_key = \$dir/ca.key
default_md = sha256
default_days = 365
default_crl_days = 30
policy = policy_any
unique_subject = no
copy_extensions = none
[policy_any]
commonName = supplied
organizationName = optional
[req]
distinguished_name = dn
[dn]
[v3_ca]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[signer]
basicConstraints = CA:false
keyUsage = critical,digitalSignature,nonRepudiation
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[keyenc]
basicConstraints = CA:false
keyUsage = critical,keyEncipherment
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
CNF
}

_sp_svpki_ossl() { # quiet openssl; shows its output only on failure
	local out
	out=$(openssl "$@" 2>&1) || { printf 'openssl %s failed:\n%s\n' "$1" "$out" >&2; return 1; }
}

# _sp_svpki_root DIR CN: a self-signed root CA.
_sp_svpki_root() {
	mkdir -p "$1/newcerts" && : >"$1/index.txt" && echo 1000 >"$1/serial" && echo 1000 >"$1/crlnumber"
	_sp_svpki_cnf "$1"
	_sp_svpki_ossl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1/ca.key"
	_sp_svpki_ossl req -config "$1/ca.cnf" -new -x509 -key "$1/ca.key" -subj "/O=simpki test/CN=$2" \
		-days 3650 -extensions v3_ca -out "$1/ca.pem"
}

# _sp_svpki_issue CADIR OUTBASE CN EXTENSIONS BITS [openssl ca options...]
_sp_svpki_issue() {
	local ca=$1 out=$2 cn=$3 ext=$4 bits=$5
	shift 5
	_sp_svpki_ossl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:$bits" -out "$out.key"
	_sp_svpki_ossl req -config "$ca/ca.cnf" -new -key "$out.key" -subj "/O=simpki test/CN=$cn" -out "$out.csr"
	_sp_svpki_ossl ca -config "$ca/ca.cnf" -batch -notext -extensions "$ext" -in "$out.csr" -out "$out.pem" "$@"
}

# _sp_svpki_sub ROOTDIR DIR CN: a sub-CA of ROOTDIR.
_sp_svpki_sub() {
	mkdir -p "$2/newcerts" && : >"$2/index.txt" && echo 2000 >"$2/serial" && echo 1000 >"$2/crlnumber"
	_sp_svpki_cnf "$2"
	_sp_svpki_issue "$1" "$2/ca" "$3" v3_ca 2048 -days 1825
}

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

# sp_svpki_sign DIR NAME IN OUT [openssl cms options...]: sign IN as signer
# NAME. The CMS carries the signer's certificate only; add
# -certfile DIR/sub.pem to carry the sub-CA too.
sp_svpki_sign() {
	local d=$1 name=$2 in=$3 out=$4
	shift 4
	_sp_svpki_ossl cms -sign -binary -in "$in" -signer "$d/$name.pem" -inkey "$d/$name.key" \
		-out "$out" "$@"
}
