# lib_decision.sh - relaygate's decision lines, and messages delivered
# through the relay, in an e2e test (a bash library, sourced after
# world.sh).
#
# Interface:
#   decision                 wait for the next decision line (event=message)
#                            in relaygate's log; LINE holds it
#   has FIELD...             LINE holds each logfmt FIELD (key=value)
#   deliver [smtpsend opts]  one message that must be accepted and reach the
#                            sink, then its decision line; MSG is the file
#                            the sink got (without the sink's additions),
#                            DKIM a file holding python3-dkim's verdict
# DECISION_N counts the decision lines read so far.
# shellcheck shell=bash

DECISION_N=0

# decision - see above
decision() {
	DECISION_N=$((DECISION_N + 1))
	world_wait "$WORLD_WAIT" _decision_has "$DECISION_N" ||
		world_fail "no decision line #$DECISION_N in relaygate's log"
	LINE=$(grep 'event=message ' "$W/log/relaygate.log" |
		sed -n "${DECISION_N}p")
}

# _decision_has N - relaygate's log holds N decision lines
_decision_has() {
	(($(grep -c 'event=message ' "$W/log/relaygate.log") >= $1))
}

# has FIELD... - see above
has() {
	local f
	for f in "$@"; do
		[[ " $LINE " == *" $f "* ]] ||
			world_fail "decision line lacks '$f': $LINE"
	done
}

# deliver [smtpsend options] - see above
deliver() {
	local n file
	n=$(world_sink_count)
	world_smtp_send "$@"
	assert_smtp RESULT accepted
	world_sink_wait $((n + 1))
	file=$(world_sink_find "$WORLD_TOKEN")
	[[ -n $file ]] || world_fail "message $WORLD_TOKEN not in the sink"
	MSG="$W/tmp/msg-$WORLD_TOKEN.eml"
	world_sink_message "$file" >"$MSG"
	DKIM="$W/tmp/dkim-$WORLD_TOKEN.txt"
	"$WORLD_PY" "$WORLD_HOME/py/dkimtool.py" verify <"$MSG" >"$DKIM" || true
	decision
}
