#!/bin/bash
# demo.sh - the README's first command: install what is needed, build
# relaygate, and run it with the shipped default configuration in a
# self-contained world (its own DNS root with sample customer zones, its own
# Postfix relay on loopback, a sink standing for the receivers), send sample
# messages and show what happened to each.
#
# Run as root on Debian 12.  Nothing on the host changes but the Debian
# packages installed and the build/ directory: the world lives in private
# namespaces (tests/world/world.sh) and disappears when the demo ends.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)

if [[ -z ${WORLD_STAGE:-} ]]; then
	[[ $(id -u) == 0 ]] || { echo "demo.sh: run as root" >&2; exit 1; }
	"$REPO/contrib/install-deps.sh"
	mkdir -p "$REPO/build"
	echo "demo: building relaygate (log: build/demo-build.log)"
	{ cmake -S "$REPO" -B "$REPO/build/demo" -DRELAYGATE_TESTS=OFF \
		-DCMAKE_BUILD_TYPE=RelWithDebInfo &&
		cmake --build "$REPO/build/demo" -j "$(nproc)"; } \
		>"$REPO/build/demo-build.log" 2>&1 ||
		{ tail -30 "$REPO/build/demo-build.log"; exit 1; }
	export RELAYGATE_BIN="$REPO/build/demo/milter/relaygate"
	export WORLD_TIMEOUT=120
fi
# shellcheck source=../tests/world/world.sh
. "$REPO/tests/world/world.sh"
world_enter "$@"

# The sample customers (zones in tests/world/zones): label, MAIL FROM,
# From header.
SAMPLES=(
	"configured customer|alice@good.test|Alice <alice@good.test>"
	"SPF lacks the relay|info@nospf.test|Info <info@nospf.test>"
	"DKIM not delegated|sales@nodkim.test|Sales <sales@nodkim.test>"
	"nothing configured|bob@bare.test|bob@bare.test"
	"bounce (null sender)||MAILER-DAEMON@good.test"
	"envelope != From|bounces@good.test|News <news@nospf.test>"
)

# demo_send LABEL FROM HEADER_FROM - send one sample, print one result line
demo_send() {
	local label=$1 from=$2 hfrom=$3 file qid action dkim status
	world_smtp_send --from "$from" --header-from "$hfrom" \
		--subject "relaygate demo: $label"
	status=$(world_smtp_code RESULT)
	if [[ $status != accepted ]]; then
		printf '  %-22s %-20s %s\n' "$label" "${from:-<>}" \
			"refused: $(awk '$1 != "TOKEN" && $1 != "RESULT"' \
				"$WORLD_SMTP" | tail -n 1)"
		return
	fi
	world_wait 5 test -n "$(world_sink_find "$WORLD_TOKEN")" || true
	file=$(world_sink_find "$WORLD_TOKEN")
	[[ -n $file ]] || { printf '  %-22s %-20s %s\n' "$label" \
		"${from:-<>}" "accepted but not delivered (yet)"; return; }
	# The relay's queue id, from the Received header Postfix added.
	qid=$(world_sink_message "$file" --headers |
		grep -oE 'with E?SMTP id [0-9A-Z]+' | awk 'NR==1{print $NF}') || true
	world_wait 3 grep -q "queue_id=$qid " "$W/log/syslog" || true
	action=$(grep -oE "queue_id=$qid .*action=[a-z]+" "$W/log/syslog" |
		grep -oE 'action=[a-z]+' | tail -n 1) || true
	dkim=$(world_sink_message "$file" |
		"$WORLD_PY" "$WORLD_HOME/py/dkimtool.py" verify 2>&1 |
		head -n 1) || true
	printf '  %-22s %-20s delivered, relaygate %s, %s\n' "$label" \
		"${from:-<>}" "${action:-(no decision logged)}" "$dkim"
}

world_step "starting the world: DNS root, customer zones, sink"
world_dns_start
world_sink_start
world_install_relaygate
world_step "relaygate with the shipped /etc/relaygate/relaygate.conf"
"$RELAYGATE_BIN" -n
world_relaygate_start -
world_postfix_start relay

echo
echo "Sending one message per sample customer through the relay:"
echo
printf '  %-22s %-20s %s\n' "sample" "MAIL FROM" "what happened"
for sample in "${SAMPLES[@]}"; do
	IFS='|' read -r label from hfrom <<<"$sample"
	demo_send "$label" "$from" "$hfrom"
done
echo
echo "relaygate's log (syslog, facility mail):"
grep -oE 'relaygate\[[0-9]+\]: .*' "$W/log/syslog" | sed 's/^/  /'
echo
echo "This release passes every message unchanged and logs one decision"
echo "line per message; signing, tagging and deferring come with the SPF,"
echo "DKIM and policy modules."
