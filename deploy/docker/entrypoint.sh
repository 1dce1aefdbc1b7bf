#!/bin/sh
# simpki-entrypoint: hand the database password from a Docker secret to libpq
# (PGPASSWORD), so SIMPKI_DB_URL itself never holds it, then run the command.
set -eu
secret=/run/secrets/db_password
if [ -z "${PGPASSWORD:-}" ] && [ -r "$secret" ]; then
	PGPASSWORD=$(cat "$secret")
	export PGPASSWORD
fi
exec "$@"
