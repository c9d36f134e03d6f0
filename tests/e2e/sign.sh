#!/bin/bash
# sign.sh - relaygate's DKIM signatures, judged by two independent
# verifiers (python3-dkim and OpenDKIM's opendkim-testmsg, both resolving
# through the world's DNS): a signed message verifies, one altered after
# signing does not, a body of many chunks (streamed, never held) verifies,
# configured header lists reach h=, and a rotation (active selector
# changed, SIGUSR1) under a steady stream of messages loses none, leaves
# none unsigned and signs nothing with the old selector once the reload is
# done.
#
# Run as root: bash tests/e2e/sign.sh   (exit 0 = pass)
set -euo pipefail
export WORLD_TIMEOUT=${WORLD_TIMEOUT:-180}
# shellcheck source-path=SCRIPTDIR source=../world/world.sh
. "$(dirname "$0")/../world/world.sh"
world_enter "$@"

log="$W/log/relaygate.log"
conf="$W/tmp/sign.conf"

# conf_with ACTIVE - the test configuration with an active selector and an
# extra signed header
conf_with() {
	sed "s/active_selector = \"prezent-a\";/active_selector = \"$1\";\\
	sign_headers = [ \"X-Mailer\" ];\\
	oversign_headers = [ \"from\", \"subject\" ];/" \
		"$WORLD_HOME/relaygate-test.conf" >"$conf"
}

world_dns_start
world_sink_start
conf_with prezent-a
world_relaygate_start "$conf"
world_postfix_start relay

# verify FILE - both verifiers' verdicts on a message file: "PY OD"
verify() {
	local py od=pass
	py=$("$WORLD_PY" "$WORLD_HOME/py/dkimtool.py" verify <"$1" 2>"$W/tmp/py.err" | head -n 1) ||
		true
	opendkim-testmsg <"$1" >"$W/tmp/od.txt" 2>&1 || od=fail
	echo "${py%% *} ${py#DKIM } / opendkim $od"
}

# send_get [smtpsend options] - deliver one message; MSG is its file
send_get() {
	local n
	n=$(world_sink_count)
	world_smtp_send "$@"
	assert_smtp RESULT accepted
	world_sink_wait $((n + 1))
	MSG="$W/tmp/$WORLD_TOKEN.eml"
	world_sink_message "$(world_sink_find "$WORLD_TOKEN")" >"$MSG"
}

world_step "a signed message verifies with python3-dkim and opendkim"
send_get --from alice@good.test --header 'X-Mailer: world 1.0'
assert_eq "DKIM pass d=good.test s=prezent-a a=rsa-sha256 / opendkim pass" \
	"$(verify "$MSG")" "verdicts"
world_step "h= lists the configured extra field; oversigned names twice"
tags=$(sed -n '/^DKIM-Signature:/,/^[^ \t]/p' "$MSG" | tr -d ' \t\n')
[[ $tags == *h=From:To:Subject:Date:Message-ID:X-Mailer:from:subject\;* ]] ||
	world_fail "unexpected h= in $tags"

world_step "altered after signing: both verifiers reject it"
sed 's/^world-token: /world-token: tampered /' "$MSG" >"$W/tmp/body.eml"
assert_eq "DKIM fail d=good.test s=prezent-a a=rsa-sha256 / opendkim fail" \
	"$(verify "$W/tmp/body.eml")" "verdicts on an altered body"
sed 's/^Subject: .*/Subject: changed/' "$MSG" >"$W/tmp/subj.eml"
assert_eq "DKIM fail d=good.test s=prezent-a a=rsa-sha256 / opendkim fail" \
	"$(verify "$W/tmp/subj.eml")" "verdicts on an altered Subject"

world_step "a 1 MiB body, streamed in many chunks, verifies"
"$WORLD_PY" -c 'import sys
for i in range(16384): sys.stdout.write("line %06d %s\n" % (i, "x" * 52))
sys.stdout.write("world-token: {token}\n")' >"$W/tmp/big.txt"
send_get --from alice@good.test --body-file "$W/tmp/big.txt"
(($(stat -c %s "$MSG") > 1000000)) || world_fail "the big message is small"
assert_eq "DKIM pass d=good.test s=prezent-a a=rsa-sha256 / opendkim pass" \
	"$(verify "$MSG")" "verdicts on the big message"

world_step "rotation under a steady stream: nothing lost, nothing unsigned"
world_postfix_start outbox
stream=40
before=$(world_sink_count)
( for i in $(seq 1 "$stream"); do
	date +%s.%N >"$W/tmp/stream-$i.start"
	"$WORLD_PY" "$WORLD_HOME/py/smtpsend.py" --host 127.0.0.1 \
		--from "stream$i@good.test" --subject "stream $i" \
		>"$W/tmp/stream-$i.txt" 2>&1 || echo "stream $i failed" >&2
	date +%s.%N >"$W/tmp/stream-$i.end"
	sleep 0.05
done ) &
sender=$!
_stream_third() { (($(world_sink_count) >= before + stream / 3)); }
world_wait 30 _stream_third || world_fail "the stream does not flow"
conf_with prezent-b
world_render "$conf" "$W/relaygate.conf"
signalled=$(date +%s.%N)
world_relaygate_signal USR1
world_log_wait "$log" 'event=reload status=ok'
reloaded=$(date -d "$(grep 'event=reload status=ok' "$log" | head -n 1 |
	sed -E 's/^ts=([^ ]+) .*/\1/')" +%s.%N)
wait "$sender" || world_fail "the stream's sender failed"
world_sink_wait $((before + stream)) 30
# Each message must verify.  One whose session ended before the signal
# carries prezent-a; one whose session began after the reload was done,
# prezent-b (the runtime is taken at MAIL FROM); those in between either.
na=0 nb=0
for i in $(seq 1 "$stream"); do
	token=$(awk '$1 == "TOKEN" { print $2 }' "$W/tmp/stream-$i.txt")
	grep -q '^RESULT accepted' "$W/tmp/stream-$i.txt" ||
		world_fail "stream message $i refused: $(tail -n 2 "$W/tmp/stream-$i.txt")"
	world_sink_message "$(world_sink_find "$token")" >"$W/tmp/s.eml"
	v=$(verify "$W/tmp/s.eml")
	start=$(<"$W/tmp/stream-$i.start") end=$(<"$W/tmp/stream-$i.end")
	if awk -v a="$start" -v b="$reloaded" 'BEGIN { exit !(a > b) }'; then
		assert_eq "DKIM pass d=good.test s=prezent-b a=rsa-sha256 / opendkim pass" \
			"$v" "stream message $i, sent after the reload"
		nb=$((nb + 1))
	elif awk -v a="$end" -v b="$signalled" 'BEGIN { exit !(a < b) }'; then
		assert_eq "DKIM pass d=good.test s=prezent-a a=rsa-sha256 / opendkim pass" \
			"$v" "stream message $i, sent before the reload"
		na=$((na + 1))
	else
		[[ $v =~ ^DKIM\ pass\ d=good\.test\ s=prezent-[ab]\ .*opendkim\ pass$ ]] ||
			world_fail "stream message $i, during the reload: $v"
	fi
done
((na > 0 && nb > 0)) ||
	world_fail "the reload did not fall inside the stream ($na before, $nb after)"
world_log "sign: OK ($na messages before the rotation, $nb after)"
