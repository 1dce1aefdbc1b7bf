#!/usr/bin/env bash
# test_sla_deadline.sh - `simpkictl sla deadline`: the deadline of a period
# of working days (common/calendar, docs/calendar.md).
#
# Needs no stack: runs the built simpkictl on the shipped holiday files and
# the fixtures of tests/fixtures/holidays/, checking the exact stdout (the
# deadline and nothing else), the exit status (0 done, 1 missing year or
# bad file, 2 usage) and the reasons on stderr.
set -u

SRC=${SIMPKI_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${SIMPKI_BUILD_DIR:-$SRC/build}
CTL=$BUILD/tools/simpkictl/simpkictl
FIX=$SRC/tests/fixtures/holidays
[ -x "$CTL" ] || { echo "FAIL - $CTL is not built"; exit 1; }

TMP=$(mktemp -d /tmp/simpki-test-sla.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
# The default folder is the source tree's data/holidays, whatever is set.
unset SIMPKI_HOLIDAY_DIR
export SIMPKI_LOG_LEVEL=error

failures=0
ok() { echo "ok   - $*"; }
not_ok() { echo "FAIL - $*"; failures=$((failures + 1)); }

# run ARGS...: run simpkictl, keep stdout in $TMP/out, stderr in $TMP/err
# and the exit status in $RC.
run() {
  RC=0
  "$CTL" "$@" >"$TMP/out" 2>"$TMP/err" </dev/null || RC=$?
}

# deadline WANT ARGS...: exit 0 and stdout exactly "WANT\n".
deadline() {
  local want=$1
  shift
  run sla deadline "$@"
  if [ "$RC" -eq 0 ] && [ "$(cat "$TMP/out")" = "$want" ] &&
    cmp -s "$TMP/out" <(printf '%s\n' "$want"); then
    ok "$* -> $want"
  else
    not_ok "$*: exit $RC, stdout '$(head -c 300 "$TMP/out")', stderr '$(head -c 300 "$TMP/err")', want '$want'"
  fi
}

# refused STATUS REGEX ARGS...: exit STATUS, stderr matching REGEX, stdout
# empty.
refused() {
  local want=$1 reason=$2
  shift 2
  run "$@"
  if [ "$RC" -eq "$want" ] && [ ! -s "$TMP/out" ] && grep -Eq -- "$reason" "$TMP/err"; then
    ok "refused with $want: $* ($(head -n1 "$TMP/err" | head -c 160))"
  else
    not_ok "$*: exit $RC (want $want), stdout '$(head -c 200 "$TMP/out")', stderr '$(head -c 300 "$TMP/err")' (want /$reason/)"
  fi
}

# --- the issue's example ------------------------------------------------------
run sla deadline --from "2026-02-13T10:00" --working-days 3
if [ "$RC" -eq 0 ] && cmp -s "$TMP/out" <(printf '2026-02-25T23:59:59+07:00\n') && [ ! -s "$TMP/err" ]; then
  ok "the example prints exactly 2026-02-25T23:59:59+07:00 and a newline, nothing on stderr"
else
  not_ok "the example: exit $RC, stdout '$(od -c "$TMP/out" | head -3)', stderr '$(cat "$TMP/err")'"
fi

deadline 2026-02-25T23:59:59+07:00 --from 2026-02-13T10:00:00+07:00 --working-days 3
deadline 2026-02-25T23:59:59+07:00 --from 2026-02-13T03:00:00Z --working-days 3
deadline 2026-02-25T23:59:59+07:00 --from=2026-02-13T10:00 --working-days=3
deadline 2026-02-25T23:59:59+07:00 --working-days 3 --from 2026-02-13T10:00
deadline 2026-02-25T23:59:59+07:00 --from 2026-02-13T10:00 --working-days 3 --holidays "$SRC/data/holidays"
# 23:59 Thursday local vs 00:00 Friday local, written in UTC.
deadline 2026-03-06T23:59:59+07:00 --from 2026-03-05T16:59:00Z --working-days 1
deadline 2026-03-09T23:59:59+07:00 --from 2026-03-05T17:00:00Z --working-days 1
deadline 2026-02-13T23:59:59+07:00 --from 2026-02-13T10:00 --working-days 0
deadline 2026-12-31T23:59:59+07:00 --from 2026-01-01T08:00 --working-days 250

# A count crossing provisional entries warns on stderr, stdout unchanged.
deadline 2027-01-05T23:59:59+07:00 --from 2026-12-30T10:00 --working-days 3
if grep -q "warning: .*provisional" "$TMP/err"; then
  ok "provisional entries crossed: a warning on stderr"
else
  not_ok "no warning for provisional entries: '$(cat "$TMP/err")'"
fi

# The folder from the environment, and --holidays over it.
SIMPKI_HOLIDAY_DIR=$FIX/makeup deadline 2026-01-10T23:59:59+07:00 --from 2026-01-07T10:00 --working-days 3
SIMPKI_HOLIDAY_DIR=$FIX/makeup deadline 2026-01-12T23:59:59+07:00 --from 2026-01-07T10:00 --working-days 3 \
  --holidays "$SRC/data/holidays"

# --- refusals: 1 -----------------------------------------------------------------
refused 1 "no holiday data for 2028" sla deadline --from 2028-01-03T10:00 --working-days 3
refused 1 "no holiday data for 2028" sla deadline --from 2027-12-30T10:00 --working-days 3
refused 1 "no holiday data for 2027" sla deadline --from 2026-12-30T10:00 --working-days 3 --holidays "$FIX/makeup"
refused 1 "no holiday data for 2027" sla deadline --from 2026-02-13T10:00 --working-days 3 --holidays "$FIX/gap"
refused 1 "bad-kind/2026\.txt:4: unknown kind \"holliday\"" sla deadline --from 2026-02-13T10:00 --working-days 3 \
  --holidays "$FIX/bad-kind"
refused 1 "not-utf8/2026\.txt:3: not UTF-8" sla deadline --from 2026-02-13T10:00 --working-days 3 \
  --holidays "$FIX/not-utf8"
refused 1 "no holiday data in .*no-years" sla deadline --from 2026-02-13T10:00 --working-days 3 --holidays "$FIX/no-years"
refused 1 "cannot open the holiday folder" sla deadline --from 2026-02-13T10:00 --working-days 3 --holidays "$TMP/none"
SIMPKI_HOLIDAY_DIR=$TMP/none refused 1 "cannot open the holiday folder .*/none" \
  sla deadline --from 2026-02-13T10:00 --working-days 3

# --- usage: 2 ----------------------------------------------------------------------
refused 2 "give --from and --working-days" sla deadline
refused 2 "give --from and --working-days" sla deadline --from 2026-02-13T10:00
refused 2 "give --from and --working-days" sla deadline --working-days 3
refused 2 "bad option or missing value" sla deadline --from
refused 2 "bad option or missing value" sla deadline --from 2026-02-13T10:00 --working-days 3 --bogus
refused 2 "unexpected argument" sla deadline --from 2026-02-13T10:00 --working-days 3 extra
refused 2 "is not a date and time" sla deadline --from 2026-02-13 --working-days 3
refused 2 "is not a date and time" sla deadline --from "13/02/2026 10:00" --working-days 3
refused 2 "no such date or time" sla deadline --from 2026-02-30T10:00 --working-days 3
for n in -1 abc 3x "" " 3" +3 10001 99999999999999999999; do
  refused 2 "--working-days: .*expected a number from 0 to 10000" sla deadline --from 2026-02-13T10:00 --working-days "$n"
done
refused 2 "Usage: simpkictl sla" sla
refused 2 "unknown subcommand \"frob\"" sla frob

# --- help ----------------------------------------------------------------------------
for args in "sla --help" "sla -h" "sla deadline --help" "sla deadline --from x -h"; do
  # shellcheck disable=SC2086
  run $args
  if [ "$RC" -eq 0 ] && grep -q "Usage: simpkictl sla" "$TMP/out" && [ ! -s "$TMP/err" ]; then
    ok "simpkictl $args prints the usage"
  else
    not_ok "simpkictl $args: exit $RC, stderr '$(head -c 200 "$TMP/err")'"
  fi
done
if grep -q -- "--working-days N" "$TMP/out"; then
  ok "deadline's usage names its options"
else
  not_ok "deadline's usage: $(cat "$TMP/out")"
fi
run --help
if grep -Eq "^  sla +A5 contact deadlines: deadline$" "$TMP/out"; then
  ok "sla is in simpkictl --help"
else
  not_ok "sla missing from simpkictl --help"
fi

echo
if [ "$failures" -ne 0 ]; then
  echo "test_sla_deadline: $failures failure(s)"
  exit 1
fi
echo "test_sla_deadline: all passed"
