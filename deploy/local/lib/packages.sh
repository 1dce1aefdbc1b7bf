# packages.sh - the ONE list of Debian packages the project needs to build,
# test and run locally; sourced by tests/run and deploy/local/run.

SIMPKI_DEB_PACKAGES=(
	build-essential cmake pkg-config git
	librdkafka-dev libpq-dev libjansson-dev libssl-dev
	check libsubunit-dev libmicrohttpd-dev libcurl4-openssl-dev
	postgresql osmo-hlr sqlite3 kannel kannel-extras
	python3 python3-jsonschema python3-yaml python3-aiosmtpd
	kcat curl openssl
	chromium
	clang libclang-rt-14-dev valgrind
	procps iproute2 psmisc
)

# Prints the packages of the list that are not installed, one a line.
sp_missing_packages() {
	local p
	for p in "${SIMPKI_DEB_PACKAGES[@]}"; do
		dpkg -s "$p" 2>/dev/null | grep -qx 'Status: install ok installed' ||
			printf '%s\n' "$p"
	done
}

# Installs what is missing (as root), or says what to install (otherwise).
sp_install_packages() {
	local missing made_policy=0 rc=0
	mapfile -t missing < <(sp_missing_packages)
	[ "${#missing[@]}" -eq 0 ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		printf '%s: missing Debian packages: %s\n' "${SP_PROG:-simpki}" "${missing[*]}" >&2
		printf '%s: as root run: apt-get update && apt-get install -y %s\n' \
			"${SP_PROG:-simpki}" "${missing[*]}" >&2
		return 1
	fi
	printf '%s: installing Debian packages: %s\n' "${SP_PROG:-simpki}" "${missing[*]}" >&2
	# postgresql's maintainer scripts start a cluster through invoke-rc.d;
	# in a container without systemd, forbid that (exit 101) for the
	# duration of the install: we run our own throw-away clusters.
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d &&
			chmod 755 /usr/sbin/policy-rc.d && made_policy=1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update </dev/null >&2 &&
		apt-get install -y -o Dpkg::Options::=--force-confdef \
			-o Dpkg::Options::=--force-confold "${missing[@]}" </dev/null >&2 || rc=1
	[ "$made_policy" -eq 1 ] && rm -f /usr/sbin/policy-rc.d
	if [ "$rc" -ne 0 ]; then
		printf '%s: apt-get install failed\n' "${SP_PROG:-simpki}" >&2
		return 1
	fi
	mapfile -t missing < <(sp_missing_packages)
	if [ "${#missing[@]}" -ne 0 ]; then
		printf '%s: still missing after install: %s\n' "${SP_PROG:-simpki}" "${missing[*]}" >&2
		return 1
	fi
	return 0
}
