#!/bin/bash
# passthrough.sh - mail from a client outside the scope (scope.outside =
# "pass") reaches the sink unchanged (only Postfix's own Received header is
# added), even from a configured domain: never signed, never tagged.
# relaygate's decision line names it by Postfix's queue id, with both
# domains, scope=out and action=pass.
#
# Run as root: bash tests/e2e/passthrough.sh   (exit 0 = pass)
set -euo pipefail
export WORLD_TIMEOUT=${WORLD_TIMEOUT:-60}
# shellcheck source-path=SCRIPTDIR source=../world/world.sh
. "$(dirname "$0")/../world/world.sh"
world_enter "$@"

# strip_first_received FILE - the message without its first Received
# header (with continuation lines): the one the relay Postfix prepends.
strip_first_received() {
	awk 'BEGIN { skip = 0; done = 0 }
	     !done && /^Received: / { skip = 1; done = 1; next }
	     skip && /^[ \t]/ { next }
	     { skip = 0; print }' "$1"
}

world_dns_start
world_sink_start
# The world's clients connect from 127.0.0.1: a scope without loopback and
# without SASL leaves them outside.
sed 's|^relay: {|scope: { networks = [ "192.0.2.0/24" ]; sasl = false; };\nrelay: {|' \
	"$WORLD_HOME/relaygate-test.conf" >"$W/tmp/outside.conf"
world_relaygate_start "$W/tmp/outside.conf"
world_postfix_start relay

world_step "a message with an awkward body goes through unchanged"
"$WORLD_PY" "$WORLD_HOME/py/smtpsend.py" --print --from alice@good.test \
	--header-from 'Alice Example <alice@Good.Test>' \
	--header 'X-Folded: first part,' --header ' second part' \
	--body $'line one\n.leading dot\n\ttab indented\ntrailing space \n\nworld-token: {token}\n' \
	>"$W/tmp/sent.eml" 2>"$W/tmp/token.txt"
token=$(awk '{ print $2 }' "$W/tmp/token.txt")
world_smtp_send --from alice@good.test --message-file "$W/tmp/sent.eml"
assert_smtp RESULT accepted
world_sink_wait 1
file=$(world_sink_find "$token")
[[ -n $file ]] || world_fail "the sink has no message with token $token"
world_sink_message "$file" >"$W/tmp/received.eml"
strip_first_received "$W/tmp/received.eml" >"$W/tmp/received-stripped.eml"
cmp -s "$W/tmp/sent.eml" "$W/tmp/received-stripped.eml" ||
	world_fail "the message changed on the way:" \
		"$(diff "$W/tmp/sent.eml" "$W/tmp/received-stripped.eml" | head -20)"
assert_grep "$W/tmp/received.eml" '^Received: from client\.world\.test' \
	"the relay's Received header"

world_step "relaygate logged one decision line with Postfix's queue id"
qid=$(grep -oE 'with E?SMTP id [0-9A-Za-z]+' "$W/tmp/received.eml" |
	awk 'NR == 1 { print $NF }')
[[ -n $qid ]] || world_fail "no queue id in the relay's Received header"
log="$W/log/relaygate.log"
world_log_wait "$log" "event=message queue_id=$qid "
line=$(grep -E "event=message queue_id=$qid " "$log")
for field in client=127.0.0.1 scope=out env_domain=good.test \
	from_domain=good.test action=pass; do
	[[ " $line " == *" $field "* ]] ||
		world_fail "decision line lacks $field: $line"
done
assert_eq 1 "$(grep -c 'event=message ' "$log")" "decision lines"

world_step "a bounce (null sender) passes too; its line has no env domain"
world_smtp_send --from '' --header-from 'MAILER-DAEMON@good.test'
assert_smtp RESULT accepted
world_sink_wait 2
world_log_wait "$log" 'event=message .*scope=out env_domain="" from_domain=good.test action=pass .*env_note="null sender"'
world_log "passthrough: OK"
