#!/bin/bash
# bench_floors.sh SIGNMSERVE NULLMSERVE MILTLOAD SRCDIR - the benchmark's floor
# milters on relaygate's engine do what BENCHMARKS.md says they do, so
# that a floor that stopped signing (or signed wrongly, and cheaply)
# cannot pass for a fast one:
#   - signmserve's DKIM-Signature verifies with python3-dkim
#     (tests/unit/dkim_verify.py) against the key it was given, and no
#     longer does once the body is changed;
#   - signmserve tempfails a message it cannot sign (no From);
#   - signmserve refuses a key with group or other access;
#   - nullmserve inserts its one field and signs nothing.
# Unix sockets in a private temporary directory; every process started
# here is stopped by its PID.
set -euo pipefail
sms=$1 nms=$2 ml=$3 src=$4
tmp=$(mktemp -d)
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
# shellcheck source-path=SCRIPTDIR source=../lib/checks.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/checks.sh"

# start SOCKET CMD... - run a floor in the background; wait (5 s at most)
# for its socket.
start() {
	local sock=$1 i
	shift
	"$@" >>"$tmp/floors.log" 2>&1 &
	pids+=("$!")
	for ((i = 0; i < 50; i++)); do
		[[ -S $sock ]] && return 0
		sleep 0.1
	done
	echo "FAIL $1 did not listen on $sock: $(tail -n 3 "$tmp/floors.log")"
	exit 1
}

# session SOCKET [FROM] - one scripted message; miltload's lines on stdout
session() {
	local from=()
	[[ -z ${2:-} ]] || from=(-e "header From: $2")
	"$ml" -S "unix:$1" -e connect -e 'mail <sender@good.test>' \
		"${from[@]}" -e 'header To: <rcpt@example.net>' \
		-e 'header Subject: a subject\n\tfolded onto a second line' \
		-e eoh -e 'body Hello,' -e 'body   with  spaces   inside  ' \
		-e 'body ' -e 'body the end.' -e eom -e quit
}

# The key, and its record as a receiver would find it in DNS.
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
	-out "$tmp/key.pem" 2>/dev/null
chmod 0600 "$tmp/key.pem"
echo "v=DKIM1; k=rsa; p=$(openssl pkey -in "$tmp/key.pem" -pubout \
	-outform DER 2>/dev/null | base64 -w0)" >"$tmp/record"

# --- signmserve -------------------------------------------------------------
start "$tmp/s.sock" "$sms" "unix:$tmp/s.sock" "$tmp/key.pem" good.test \
	prezent-a
session "$tmp/s.sock" '"Sender" <sender@good.test>' >"$tmp/signed.out"
# The message as the MTA would deliver it: the inserted field on top, the
# fields and body lines as sent, CRLF line ends.
/usr/bin/python3 - "$tmp/signed.out" "$tmp/msg" <<'EOF'
import re, sys
out = open(sys.argv[1]).read()
m = re.search(r'^eom insheader index=0 name="DKIM-Signature" value="(.*)"$',
              out, re.M)
if not m:
    sys.exit("no DKIM-Signature inserted:\n" + out)
esc = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}
value = re.sub(r'\\(.)', lambda e: esc.get(e.group(1), e.group(0)),
               m.group(1))
fields = ["DKIM-Signature: " + value,
          'From: "Sender" <sender@good.test>',
          "To: <rcpt@example.net>",
          "Subject: a subject\n\tfolded onto a second line"]
body = ["Hello,", "  with  spaces   inside  ", "", "the end."]
text = "\n".join(fields) + "\n\n" + "\n".join(body) + "\n"
open(sys.argv[2], "wb").write(text.replace("\n", "\r\n").encode())
EOF
if /usr/bin/python3 "$src/tests/unit/dkim_verify.py" "$tmp/msg" \
	"$tmp/record" prezent-a._domainkey.good.test 2>"$tmp/verify.err"; then
	ok "signmserve's signature verifies with python3-dkim"
else
	fail "signmserve's signature does not verify: $(cat "$tmp/verify.err")"
fi
if grep -q '^eom continue$' "$tmp/signed.out"; then
	ok "signmserve lets the signed message through"
else
	fail "signmserve did not continue: $(cat "$tmp/signed.out")"
fi
sed 's/the end\./the END./' "$tmp/msg" >"$tmp/msg.changed"
if /usr/bin/python3 "$src/tests/unit/dkim_verify.py" "$tmp/msg.changed" \
	"$tmp/record" prezent-a._domainkey.good.test 2>/dev/null; then
	fail "a changed body still verifies: the check above proves nothing"
else
	ok "a changed body no longer verifies"
fi

session "$tmp/s.sock" >"$tmp/nofrom.out"
if grep -q '^eom tempfail$' "$tmp/nofrom.out" &&
	! grep -q 'insheader' "$tmp/nofrom.out"; then
	ok "signmserve tempfails a message without From"
else
	fail "without From: $(cat "$tmp/nofrom.out")"
fi

chmod 0644 "$tmp/key.pem"
if "$sms" "unix:$tmp/bad.sock" "$tmp/key.pem" good.test prezent-a \
	>"$tmp/badkey.out" 2>&1; then
	fail "signmserve started with a world-readable key"
elif [[ -S $tmp/bad.sock ]]; then
	fail "signmserve listened before refusing its key"
else
	ok "signmserve refuses a world-readable key: $(head -n 1 "$tmp/badkey.out")"
fi

# --- nullmserve -------------------------------------------------------------
start "$tmp/n.sock" "$nms" "unix:$tmp/n.sock"
session "$tmp/n.sock" '<sender@good.test>' >"$tmp/null.out"
if grep -q '^eom insheader index=0 name="X-Null-Signature"' "$tmp/null.out" &&
	! grep -q 'DKIM-Signature' "$tmp/null.out" &&
	grep -q '^eom continue$' "$tmp/null.out"; then
	ok "nullmserve inserts its one field and signs nothing"
else
	fail "nullmserve: $(cat "$tmp/null.out")"
fi

checks_done
echo "all checks passed"
