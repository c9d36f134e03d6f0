#!/bin/bash
# tempfail_nothing_lost.sh - with relaygate stopped, the relay answers 4xx
# (milter_default_action = tempfail): it neither bounces nor passes the
# message.  A sending server (the outbox instance) keeps the message
# deferred; once relaygate is back, a retry delivers it exactly once.
#
# Run as root: bash tests/e2e/tempfail_nothing_lost.sh   (exit 0 = pass)
set -euo pipefail
export WORLD_TIMEOUT=${WORLD_TIMEOUT:-90}
# shellcheck source-path=SCRIPTDIR source=../world/world.sh
. "$(dirname "$0")/../world/world.sh"
world_enter "$@"

world_dns_start
world_sink_start
world_relaygate_start
world_postfix_start relay
world_postfix_start outbox

world_step "relaygate stopped: a direct SMTP client gets 4xx at MAIL FROM"
world_relaygate_stop
assert_eq 0 "$WORLD_RELAYGATE_STATUS" "relaygate's exit status"
world_smtp_send --from alice@good.test
assert_smtp MAIL '4??'
assert_smtp RESULT refused
assert_grep "$WORLD_SMTP" '^MAIL 451 4\.7\.1 ' "the relay's reply"

world_step "a queued message from a sending server stays deferred"
world_outbox_send --from alice@good.test
token=$WORLD_TOKEN
world_queue_wait outbox deferred 1 15
postqueue -c "$W/outbox" -j >"$W/tmp/outbox-queue.json"
assert_grep "$W/tmp/outbox-queue.json" '"delay_reason": *"[^"]*451 4\.7\.1' \
	"the outbox's deferral reason"
assert_sink_count 0
assert_queue relay '' 0

world_step "relaygate back: the retry delivers the message exactly once"
world_relaygate_start
world_outbox_flush
world_sink_wait 1 15
world_queue_wait outbox '' 0 15
[[ -n $(world_sink_find "$token") ]] ||
	world_fail "the delivered message is not the deferred one"
world_log_wait "$W/log/relaygate.log" 'event=message .*env_domain=good\.test .*action=sign selector=prezent-a'
# A duplicate would show up within a flush cycle; give it one.
world_outbox_flush
sleep 1
assert_sink_count 1
world_log "tempfail_nothing_lost: OK"
