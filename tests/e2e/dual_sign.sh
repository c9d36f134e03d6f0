#!/bin/bash
# dual_sign.sh - dual signing: selectors naming an Ed25519 sibling in
# "also" sign every message of a domain that delegated both with
# rsa-sha256 and ed25519-sha256; both signatures verify (python3-dkim,
# which implements RFC 8463).  A domain that delegated only the RSA
# selectors gets the RSA signature alone.
#
# Run as root: bash tests/e2e/dual_sign.sh   (exit 0 = pass)
set -euo pipefail
export WORLD_TIMEOUT=${WORLD_TIMEOUT:-120}
# shellcheck source-path=SCRIPTDIR source=../world/world.sh
. "$(dirname "$0")/../world/world.sh"
world_enter "$@"

world_dns_start
world_sink_start
sed '/^	selectors = (/,/^	);/c\
	selectors = (\
		{ name = "prezent-a"; target = "_dkim-a.prezent.nl";\
		  key = "@W@/keys/prezent-a.rsa.pem"; also = "prezent-ea"; },\
		{ name = "prezent-b"; target = "_dkim-b.prezent.nl";\
		  key = "@W@/keys/prezent-b.rsa.pem"; also = "prezent-eb"; },\
		{ name = "prezent-ea"; target = "_dkim-ea.prezent.nl";\
		  key = "@W@/keys/prezent-a.ed25519.pem"; },\
		{ name = "prezent-eb"; target = "_dkim-eb.prezent.nl";\
		  key = "@W@/keys/prezent-b.ed25519.pem"; }\
	);' "$WORLD_HOME/relaygate-test.conf" >"$W/tmp/dual.conf"
grep -q 'also = "prezent-ea"' "$W/tmp/dual.conf" ||
	world_fail "could not write the dual-signing configuration"
world_relaygate_start "$W/tmp/dual.conf"
world_postfix_start relay

# send_verify FROM - deliver a message from FROM; VERIFY holds the
# verifier's lines, LINE relaygate's decision line
n=0
send_verify() {
	world_smtp_send --from "$1"
	assert_smtp RESULT accepted
	n=$((n + 1))
	world_sink_wait "$n"
	world_sink_message "$(world_sink_find "$WORLD_TOKEN")" >"$W/tmp/m.eml"
	VERIFY=$("$WORLD_PY" "$WORLD_HOME/py/dkimtool.py" verify \
		<"$W/tmp/m.eml" 2>&1) || true
	world_log_wait "$W/log/relaygate.log" "event=message .*env_domain=${1#*@} "
	LINE=$(grep "event=message .*env_domain=${1#*@} " "$W/log/relaygate.log" |
		tail -n 1)
}

world_step "both selectors delegated: two signatures, both verify"
send_verify alice@dual.test
assert_eq "DKIM pass d=dual.test s=prezent-a a=rsa-sha256
DKIM pass d=dual.test s=prezent-ea a=ed25519-sha256" "$VERIFY" "signatures"
[[ $LINE == *' selector=prezent-a+prezent-ea '* ]] ||
	world_fail "the decision line does not name both selectors: $LINE"

world_step "only the RSA selectors delegated: the RSA signature alone"
send_verify alice@good.test
assert_eq "DKIM pass d=good.test s=prezent-a a=rsa-sha256" "$VERIFY" \
	"signatures"
[[ $LINE == *' selector=prezent-a '* ]] ||
	world_fail "the decision line names another selector: $LINE"
world_log "dual_sign: OK"
