#!/bin/sh
# kafka-topics.sh [TOPICS_FILE] - the kafka-topics container: creates the
# topics listed in TOPICS_FILE (default /opt/simpki/topics.txt, lines
# "NAME PARTITIONS") that the cluster lacks, then checks every one of them:
# partition count as listed, replication factor 3, min.insync.replicas=2,
# retention.ms=-1. Exits non-zero on any difference, so the services (which
# wait for this container to succeed) never start on a layout nobody chose.
#
# Runs in the apache/kafka image (POSIX sh). BOOTSTRAP_SERVERS names the
# brokers; KAFKA_TOPICS_SH is /opt/kafka/bin/kafka-topics.sh unless a test
# puts a stand-in there.
set -eu

file=${1:-/opt/simpki/topics.txt}
bootstrap=${BOOTSTRAP_SERVERS:?BOOTSTRAP_SERVERS is not set}
kt=${KAFKA_TOPICS_SH:-/opt/kafka/bin/kafka-topics.sh}
attempts=${KAFKA_TOPICS_ATTEMPTS:-12}
REPLICATION=3
MIN_ISR=2
RETENTION_MS=-1

die() {
	echo "kafka-topics: $*" >&2
	exit 1
}

# The brokers may answer before all three are registered with the
# controllers; a create with replication factor 3 then fails for a while.
retry() {
	n=1
	while ! "$@"; do
		[ "$n" -lt "$attempts" ] || return 1
		echo "kafka-topics: retrying in 5 s ($n/$attempts)" >&2
		n=$((n + 1))
		sleep 5
	done
}

[ -r "$file" ] || die "cannot read $file"
list=$(sed -e 's/#.*//' "$file" | awk 'NF')
[ -n "$list" ] || die "$file lists no topic"
echo "$list" | awk '
	NF != 2 { printf "line \"%s\": want NAME PARTITIONS\n", $0; bad = 1; next }
	$1 !~ /^[A-Za-z0-9._-]+$/ { printf "bad topic name %s\n", $1; bad = 1 }
	$2 !~ /^[1-9][0-9]*$/ { printf "%s: bad partition count %s\n", $1, $2; bad = 1 }
	seen[$1]++ { printf "%s is listed twice\n", $1; bad = 1 }
	END { exit bad }' >&2 || die "$file is malformed"

existing=$(retry "$kt" --bootstrap-server "$bootstrap" --list) ||
	die "cannot list the topics at $bootstrap"
while read -r name parts; do
	if printf '%s\n' "$existing" | grep -qxF "$name"; then
		continue
	fi
	echo "kafka-topics: creating $name ($parts partitions)"
	retry "$kt" --bootstrap-server "$bootstrap" --create --if-not-exists \
		--topic "$name" --partitions "$parts" \
		--replication-factor "$REPLICATION" \
		--config "min.insync.replicas=$MIN_ISR" \
		--config "retention.ms=$RETENTION_MS" </dev/null ||
		die "cannot create $name"
done <<LIST
$list
LIST

# One --describe for all: a summary line per topic,
# "Topic: T<TAB>TopicId: ...<TAB>PartitionCount: N<TAB>ReplicationFactor: R<TAB>Configs: k=v,...".
described=$(retry "$kt" --bootstrap-server "$bootstrap" --describe) ||
	die "cannot describe the topics at $bootstrap"
bad=0
while read -r name parts; do
	got=$(printf '%s\n' "$described" | awk -F '\t' -v t="$name" '
		$1 == "Topic: " t {
			for (i = 2; i <= NF; i++) {
				if ($i ~ /^PartitionCount: /) pc = substr($i, 17)
				if ($i ~ /^ReplicationFactor: /) rf = substr($i, 20)
				if ($i ~ /^Configs: /) cf = "," substr($i, 10) ","
			}
			printf "%s %s %s\n", pc, rf, cf
			exit
		}')
	if [ -z "$got" ]; then
		echo "kafka-topics: $name is missing" >&2
		bad=1
		continue
	fi
	# shellcheck disable=SC2086 # split "partitions replication configs"
	set -- $got
	pc=$1 rf=$2 cf=${3:-,}
	if [ "$pc" != "$parts" ]; then
		echo "kafka-topics: $name has $pc partitions, $file says $parts; change the file to what the cluster has (adding partitions to a live topic moves keys)" >&2
		bad=1
	fi
	if [ "$rf" != "$REPLICATION" ]; then
		echo "kafka-topics: $name has replication factor $rf, not $REPLICATION (kafka-reassign-partitions.sh can raise it)" >&2
		bad=1
	fi
	for want in "min.insync.replicas=$MIN_ISR" "retention.ms=$RETENTION_MS"; do
		case $cf in
		*",$want,"*) ;;
		*)
			echo "kafka-topics: $name lacks $want (kafka-configs.sh --alter --entity-type topics --entity-name $name --add-config $want)" >&2
			bad=1
			;;
		esac
	done
done <<LIST
$list
LIST
[ "$bad" -eq 0 ] || die "the topics differ from $file"
echo "kafka-topics: $(printf '%s\n' "$list" | wc -l | tr -d ' ') topics as listed in $file"
