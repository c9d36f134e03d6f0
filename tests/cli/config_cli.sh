#!/bin/bash
# config_cli.sh RELAYGATE RELAYGATECTL SRCDIR - the command-line contract
# of configuration checking: "relaygate -n" exits 0 for a valid file and 1
# for a broken one, naming file, line and key; "relaygatectl config dump"
# marks exactly the settings that differ from their defaults.
set -euo pipefail
rg=$1 ctl=$2 src=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0

# check WHAT EXPECTED_STATUS PATTERN CMD... - run CMD, compare its exit
# status and grep its combined output for PATTERN (ERE; "" for none).
check() {
	local what=$1 want=$2 pattern=$3 rc=0
	shift 3
	"$@" >"$tmp/out" 2>&1 || rc=$?
	if [[ $rc != "$want" ]]; then
		echo "FAIL $what: exit $rc, expected $want: $(head -3 "$tmp/out")"
		fails=$((fails + 1))
	elif [[ -n $pattern ]] && ! grep -qE -- "$pattern" "$tmp/out"; then
		echo "FAIL $what: output lacks /$pattern/: $(head -3 "$tmp/out")"
		fails=$((fails + 1))
	else
		echo "ok   $what"
	fi
}

check "reference file is valid" 0 ': configuration OK$' \
	"$rg" -n -c "$src/conf/relaygate.conf"

printf 'log: {\n\tlevel = "debug";\n};\ndaemon: {\n\tsokcet = "unix:/x";\n};\n' \
	>"$tmp/misspelled.conf"
check "misspelled key: file, line, key, hint" 1 \
	"^relaygate: $tmp/misspelled.conf:5: daemon.sokcet: unknown setting \(did you mean daemon.socket\?\)$" \
	"$rg" -n -c "$tmp/misspelled.conf"

printf 'log: { level = "loud"; };\n' >"$tmp/badvalue.conf"
check "bad value" 1 'badvalue.conf:1: log.level: "loud" is not one of' \
	"$rg" -n -c "$tmp/badvalue.conf"

check "missing file" 1 'nonexistent.conf: cannot open: No such file' \
	"$rg" -n -c "$tmp/nonexistent.conf"

check "unknown option" 2 '^usage: relaygate' "$rg" -x
check "version" 0 '^relaygate [0-9]+\.[0-9]+\.[0-9]+$' "$rg" -V

check "dump of the reference file: nothing marked" 0 '^dkim: \{$' \
	"$ctl" -c "$src/conf/relaygate.conf" config dump
if grep -q '# default:' "$tmp/out"; then
	echo "FAIL dump marks a default as changed: $(grep -m1 -A1 '# default:' "$tmp/out")"
	fails=$((fails + 1))
fi

printf 'log: { level = "debug"; };\n' >"$tmp/changed.conf"
check "dump marks a change with its default" 0 \
	'^	# default: "info"$' "$ctl" -c "$tmp/changed.conf" config dump
[[ $(grep -c '# default:' "$tmp/out") == 1 ]] || {
	echo "FAIL dump marks more than the one change"
	fails=$((fails + 1))
}
check "dump of a broken file fails" 1 'unknown setting' \
	"$ctl" -c "$tmp/misspelled.conf" config dump
check "unknown command" 2 "unknown command 'frobnicate'" \
	"$ctl" -c "$src/conf/relaygate.conf" frobnicate

((fails == 0)) || { echo "$fails check(s) failed"; exit 1; }
