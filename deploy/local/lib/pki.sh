# pki.sh - a throw-away X.509 PKI built with the openssl command (sourced):
# the local run's "BCYCP" signing its orders, and the sigverify tests'
# fixtures (tests/lib/sigverify_pki.sh builds its many signers on these).
#
#   _sp_svpki_root DIR CN                  a self-signed root CA in DIR
#   _sp_svpki_sub ROOTDIR DIR CN           a sub-CA of ROOTDIR
#   _sp_svpki_issue CADIR OUTBASE CN EXT BITS [openssl ca options]
#                                          OUTBASE.pem/.key (EXT: signer, keyenc)
#   sp_svpki_sign DIR NAME IN OUT [cms options]
#   sp_pki_demo DIR                        root, sub-CA, one signer "officer";
#                                          trust/ and crl/ for the services

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

# sp_svpki_sign DIR NAME IN OUT [openssl cms options...]: sign IN as signer
# NAME. The CMS carries the signer's certificate only; add
# -certfile DIR/sub.pem to carry the sub-CA too.
sp_svpki_sign() {
	local d=$1 name=$2 in=$3 out=$4
	shift 4
	_sp_svpki_ossl cms -sign -binary -in "$in" -signer "$d/$name.pem" -inkey "$d/$name.key" \
		-out "$out" "$@"
}

# sp_pki_demo DIR: what a local run needs: BCYCP's root (trusted), its
# sub-CA and an officer's signing certificate (DIR/officer.pem, .key),
# with DIR/trust and DIR/crl for SIMPKI_SIG_TRUST_DIR / _CRL_DIR.
sp_pki_demo() {
	local d=$1 ca
	mkdir -p "$d/trust" "$d/crl"
	_sp_svpki_root "$d/root" "Ban Co yeu Chinh phu - Root CA (demo)" &&
		_sp_svpki_sub "$d/root" "$d/sub" "Ban Co yeu Chinh phu - Sub CA (demo)" &&
		_sp_svpki_issue "$d/sub" "$d/officer" "Cuc CTS va BMTT - officer (demo)" signer 2048 -days 365 ||
		return 1
	cp "$d/root/ca.pem" "$d/trust/root.pem"
	cp "$d/sub/ca.pem" "$d/sub.pem"
	for ca in root sub; do
		_sp_svpki_ossl ca -config "$d/$ca/ca.cnf" -gencrl -out "$d/crl/$ca.crl" || return 1
	done
}
