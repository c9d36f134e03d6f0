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
	"only prezent-b|news@onlyb.test|News <news@onlyb.test>"
	"nothing configured|bob@bare.test|bob@bare.test"
	"bounce (null sender)||MAILER-DAEMON@good.test"
	"envelope != From|bounces@good.test|News <news@nospf.test>"
	"DNS unreachable|info@slow.test|Info <info@slow.test>"
)

# demo_decision N - relaygate's Nth decision line (waits a little for it)
demo_decision() {
	world_wait 5 _demo_has "$1" || true
	grep -E 'relaygate\[[0-9]+\]: .*event=message ' "$W/log/syslog" |
		sed -n "${1}p"
}
_demo_has() {
	(($(grep -cE 'relaygate\[[0-9]+\]: .*event=message ' \
		"$W/log/syslog") >= $1))
}

# demo_field LINE KEY - a logfmt value (quotes removed)
demo_field() {
	grep -oE "(^| )$2=(\"[^\"]*\"|[^ ]*)" <<<"$1" | head -n 1 |
		sed -E "s/^ ?$2=//; s/^\"//; s/\"\$//"
}

ndecisions=0
# demo_send LABEL FROM HEADER_FROM - send one sample, print what happened
demo_send() {
	local label=$1 from=$2 hfrom=$3 file line what dkim tag
	world_smtp_send --from "$from" --header-from "$hfrom" \
		--subject "relaygate demo: $label"
	ndecisions=$((ndecisions + 1))
	line=$(demo_decision "$ndecisions")
	what="$(demo_field "$line" action)"
	[[ -z $(demo_field "$line" selector) ]] ||
		what="$what with $(demo_field "$line" selector)"
	if [[ $(world_smtp_code RESULT) != accepted ]]; then
		printf '  %-21s %-19s refused: %s\n' "$label" "${from:-<>}" \
			"$(awk '$1 != "TOKEN" && $1 != "RESULT"' "$WORLD_SMTP" |
				tail -n 1 | cut -d' ' -f2-)"
	else
		world_wait 5 test -n "$(world_sink_find "$WORLD_TOKEN")" || true
		file=$(world_sink_find "$WORLD_TOKEN")
		dkim=$(world_sink_message "$file" |
			"$WORLD_PY" "$WORLD_HOME/py/dkimtool.py" verify 2>&1 |
			head -n 1) || true
		tag=$(world_sink_message "$file" --headers |
			sed -n 's/^X-Relaygate-Status: //p') || true
		printf '  %-21s %-19s delivered: %s; receiver sees %s\n' \
			"$label" "${from:-<>}" "$what" "$dkim"
		[[ -z $tag ]] || printf '  %42s X-Relaygate-Status: %s\n' "" "$tag"
	fi
	printf '  %42s why: %s\n' "" "$(demo_field "$line" reason)"
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
printf '  %-21s %-19s %s\n' "sample" "MAIL FROM" "what happened"
for sample in "${SAMPLES[@]}"; do
	IFS='|' read -r label from hfrom <<<"$sample"
	demo_send "$label" "$from" "$hfrom"
done
echo
echo "relaygate's decision lines (syslog, facility mail):"
grep -oE 'relaygate\[[0-9]+\]: .*event=message .*' "$W/log/syslog" |
	sed 's/^/  /'
echo
echo "With the shipped policy, SPF or DKIM alone missing tags the message;"
echo "both missing defers it once the domain's grace period (7 days from"
echo "when relaygate first saw it misconfigured) is over; DNS trouble defers."
echo "See conf/relaygate.conf, section policy."
