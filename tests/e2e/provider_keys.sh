#!/bin/bash
# provider_keys.sh - rotation safety on the provider's side: relaygate never
# signs with a key the world cannot verify.  With the active selector's
# key missing at its target it logs an error and signs with the other
# selector; once the key is published it signs with the active selector
# again; with no key published at all it signs nothing, and customers'
# mail still flows.  relaygate's resolver caches answers for their TTL
# like any other (a missing key: the zone's negative TTL), so the test
# restarts relaygate after each DNS change rather than waiting for its
# periodic check to see it.
#
# Run as root: bash tests/e2e/provider_keys.sh   (exit 0 = pass)
set -euo pipefail
export WORLD_TIMEOUT=${WORLD_TIMEOUT:-120}
here=$(cd "$(dirname "$0")" && pwd)
# The provider zone starts without _dkim-a.
export WORLD_ZONE_DIRS="$here/../world/zones $here/zones-provider"
# shellcheck source-path=SCRIPTDIR source=../world/world.sh
. "$here/../world/world.sh"
world_enter "$@"

log="$W/log/relaygate.log"
world_dns_start
world_sink_start
world_relaygate_start
world_postfix_start relay

# send_verify - one message from good.test; VERIFY is the verifier's
# output, LINE relaygate's decision line
n=0
send_verify() {
	world_smtp_send --from alice@good.test
	assert_smtp RESULT accepted
	n=$((n + 1))
	world_sink_wait "$n"
	VERIFY=$(world_sink_message "$(world_sink_find "$WORLD_TOKEN")" |
		"$WORLD_PY" "$WORLD_HOME/py/dkimtool.py" verify 2>&1) || true
	world_wait "$WORLD_WAIT" _lines_are "$n" ||
		world_fail "no decision line for message $n"
	LINE=$(grep 'event=message ' "$log" | tail -n 1)
}
_lines_are() { (($(grep -c 'event=message ' "$log") >= $1)); }

world_step "active key not published: an error, and prezent-b signs"
assert_grep "$log" 'level=error event=provider_keys signing=fallback selector=prezent-b keys="prezent-a:not_published,prezent-b:published '
send_verify
assert_eq "DKIM pass d=good.test s=prezent-b a=rsa-sha256" "$VERIFY" "signature"
[[ $LINE == *' action=sign selector=prezent-b '* ]] ||
	world_fail "decision line: $LINE"

world_step "the key published: the active selector signs again"
world_zone_set prezent.nl "$here/../world/zones/prezent.nl.zone"
world_relaygate_stop
world_relaygate_start
world_log_wait "$log" 'level=notice event=provider_keys signing=active selector=prezent-a'
send_verify
assert_eq "DKIM pass d=good.test s=prezent-a a=rsa-sha256" "$VERIFY" "signature"

world_step "no key published at all: nothing signed, mail still delivered"
world_zone_set prezent.nl "$here/zones-later/prezent-nl-nokeys.zone"
world_relaygate_stop
world_relaygate_start
world_log_wait "$log" 'level=error event=provider_keys signing=none'
send_verify
assert_eq "DKIM none" "$VERIFY" "signature"
[[ $LINE == *' action=pass '* && $LINE != *' selector='* ]] ||
	world_fail "decision line: $LINE"
world_log "provider_keys: OK"
