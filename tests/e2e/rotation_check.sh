#!/bin/bash
# rotation_check.sh - relaygatectl rotation-check names the domains that
# would lose their signature at the next rotation: signed now, the next
# selector not delegated.  From the running relaygate's cache (most
# messages first) and checked live; the next selector follows
# dkim.active_selector.
#
# Run as root: bash tests/e2e/rotation_check.sh   (exit 0 = pass)
set -euo pipefail
export WORLD_TIMEOUT=${WORLD_TIMEOUT:-120}
here=$(cd "$(dirname "$0")" && pwd)
export WORLD_ZONE_DIRS="$here/../world/zones $here/zones"
# shellcheck source-path=SCRIPTDIR source=../world/world.sh
. "$here/../world/world.sh"
# shellcheck source-path=SCRIPTDIR source=lib_ctl.sh
. "$here/lib_ctl.sh"
world_enter "$@"
ctl_init

world_dns_start
world_sink_start
world_relaygate_start
world_postfix_start relay

world_step "live: only the domain without prezent-b is at risk"
ctl live rotation-check good.test enf-onlya.test onlyb.test nodkim.test
assert_rc 1 "rotation-check with a domain at risk"
assert_eq "# next rotation: prezent-a -> prezent-b
enf-onlya.test  prezent-a:delegated,prezent-b:missing
    add: prezent-b._domainkey.enf-onlya.test. CNAME _dkim-b.prezent.nl." \
	"$(cat "$CTL_OUT")" "rotation-check output"
ctl none rotation-check good.test onlyb.test
assert_rc 0 "rotation-check without a domain at risk"

world_step "from the cache: the domains relaygate has seen, by messages"
for from in a@good.test a@enf-onlya.test b@enf-onlya.test a@onlyb.test; do
	world_smtp_send --from "$from"
	assert_smtp RESULT accepted
done
world_sink_wait 4
ctl cached rotation-check
assert_rc 1 "rotation-check from the cache"
assert_eq "# next rotation: prezent-a -> prezent-b
enf-onlya.test  messages=2  prezent-a:delegated,prezent-b:missing
    add: prezent-b._domainkey.enf-onlya.test. CNAME _dkim-b.prezent.nl." \
	"$(cat "$CTL_OUT")" "rotation-check output"

world_step "after switching to prezent-b, the next one is prezent-a"
sed 's/active_selector = "prezent-a";/active_selector = "prezent-b";/' \
	"$W/relaygate.conf" >"$W/tmp/b.conf"
CONF="$W/tmp/b.conf" ctl afterb rotation-check onlyb.test enf-onlya.test
assert_rc 1 "rotation-check with prezent-b active"
assert_eq "# next rotation: prezent-b -> prezent-a
onlyb.test  prezent-a:missing,prezent-b:delegated
    add: prezent-a._domainkey.onlyb.test. CNAME _dkim-a.prezent.nl." \
	"$(cat "$CTL_OUT")" "rotation-check output"
world_log "rotation_check: OK"
