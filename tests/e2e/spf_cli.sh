#!/bin/bash
# spf_cli.sh - "relaygatectl spf" against the world's real DNS: one SPF
# scenario zone each (tests/world/zones/spf-*.test.zone and the customer
# zones), its result, its reason and the command's exit status; then the
# relay's addresses derived from the include record when relay.addresses
# is empty, as in the shipped configuration.
#
# Run as root: bash tests/e2e/spf_cli.sh   (exit 0 = pass)
set -euo pipefail
export WORLD_TIMEOUT=${WORLD_TIMEOUT:-90}
# shellcheck source-path=SCRIPTDIR source=../world/world.sh
. "$(dirname "$0")/../world/world.sh"
world_enter "$@"

ctl=${RELAYGATECTL_BIN:-$(dirname "$(_world_relaygate_bin)")/relaygatectl}
conf="$W/relaygate.conf"

# expect DOMAIN STATUS ERE... - "relaygatectl spf DOMAIN" exits STATUS and
# its output matches every ERE.
expect() {
	local domain=$1 want=$2 rc=0 re
	shift 2
	"$ctl" -c "$conf" spf "$domain" >"$W/tmp/spf.txt" 2>&1 || rc=$?
	assert_eq "$want" "$rc" "exit status of 'spf $domain'"
	for re in "$@"; do
		assert_grep "$W/tmp/spf.txt" "$re" "spf $domain"
	done
}

world_dns_start
world_render "$WORLD_HOME/relaygate-test.conf" "$conf"

world_step "results and reasons, both relay addresses"
expect good.test 0 '^  spf=pass \(include:spf\.dmrmail\.nl\)$' \
	'^  include     present$' '^  192\.0\.2\.25 +pass ' '^  2001:db8::25 +pass '
expect spf-pass-ip4.test 0 \
	'^  spf=pass \(relay authorized without include:spf\.dmrmail\.nl\)$' \
	'^  include     absent \(the relay is authorized otherwise\)$'
expect spf-pass-redirect.test 0 '^  spf=pass '
expect nospf.test 1 '^  spf=none \(no SPF record\)$'
expect bare.test 1 '^  spf=none \(no SPF record\)$'
expect spf-fail.test 1 '^  spf=fail \(include:spf\.dmrmail\.nl missing\)$'
expect spf-softfail.test 1 '^  spf=softfail \(include:spf\.dmrmail\.nl missing\)$'
expect spf-neutral.test 1 '^  spf=neutral '
expect spf-multiple.test 1 '^  spf=permerror ' '\(multiple: '
expect spf-hostile.test 1 '^  spf=permerror ' '\(syntax: '
expect spf-hostile-include.test 1 \
	"^  spf=permerror \(include:evil\.spf-hostile-include\.test: term 1 'ip4:300\.1\.1\.1': bad IPv4 address"

world_step "RFC 7208 4.6.4 over the whole evaluation; the 11th query unsent"
expect spf-permerror-lookups.test 1 \
	'^  spf=permerror \(11 DNS lookups, limit 10 \(not sent: spf\.dmrmail\.nl TXT\)\)$'
expect spf-void.test 1 '^  spf=permerror \(3 void lookups, limit 2 '

world_step "DNS trouble is temperror, never a verdict"
# The reason gives the wait as measured: resolver.timeout (2 s) and what
# the machine added before the timed wait woke, so any number of ms.
expect spf-tempfail-include.test 2 \
	'^  spf=temperror \(timeout after [0-9]+ ms on spf\.slow\.test TXT\)$'

world_step "several domains at once: the worst status wins"
rc=0
"$ctl" -c "$conf" spf good.test spf-fail.test >"$W/tmp/two.txt" 2>&1 || rc=$?
assert_eq 1 "$rc" "exit status for a pass and a fail"
assert_eq 2 "$(grep -c '^  spf=' "$W/tmp/two.txt")" "results printed"

world_step "relay.addresses empty: taken from the include record"
sed -i 's/addresses = \[ "192.0.2.25", "2001:db8::25" \];/addresses = [ ];/' \
	"$conf"
expect good.test 0 '^  spf=pass ' \
	'^  relay       192\.0\.2\.25, 2001:db8::25 \(TXT at spf\.dmrmail\.nl\)$'
sed -i 's/spf_include = "spf.dmrmail.nl";/spf_include = "good.test";/' "$conf"
expect good.test 2 'cannot be taken from TXT at good\.test: it has no ip4: or ip6: term; set relay\.addresses'
world_log "spf_cli: OK"
