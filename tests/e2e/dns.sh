#!/bin/bash
# dns.sh - the dns module (milter/dns.c) against real DNS: runs the cmocka
# binary of tests/e2e/dns_world_test.c inside the world, where nsd serves
# the zones (tests/world/zones/dns-*.test.zone among them), unbound on
# 127.0.0.1 recurses from the private root (the world's resolv.conf names
# it) and slow.test times out in the black hole.  No Postfix, no
# relaygate.
#
# Run as root: RELAYGATE_DNS_TEST_BIN=/path/to/dns_world_test \
#	bash tests/e2e/dns.sh          (exit 0 = pass)
# DNS_TEST_FILTER="*concurrency*" runs only the cases matching it (cmocka
# pattern), e.g. for the ThreadSanitizer build.
# shellcheck disable=SC2119  # world_* functions with optional arguments
set -euo pipefail
export WORLD_TIMEOUT=${WORLD_TIMEOUT:-300}
# shellcheck source-path=SCRIPTDIR source=../world/world.sh
. "$(dirname "$0")/../world/world.sh"
world_enter "$@"

bin=${RELAYGATE_DNS_TEST_BIN:-}
[[ -n $bin && -x $bin ]] ||
	world_fail "RELAYGATE_DNS_TEST_BIN must name the dns_world_test binary"

world_step "DNS: nsd, unbound, the black hole"
world_dns_start

# A forwarder address where nothing listens: in the world's own network
# namespace, port 9 on the resolver's address is free.
dead_port=9
[[ -z $(ss -Hlnu "sport = :$dead_port") ]] ||
	world_fail "something listens on UDP port $dead_port"

export DNS_TEST_RESOLVER="$WORLD_DNS_RESOLVER" \
	DNS_TEST_BLACKHOLE="$WORLD_DNS_BLACKHOLE" \
	DNS_TEST_DEAD_FORWARDER="$WORLD_DNS_RESOLVER@$dead_port" \
	DNS_TEST_SLOW_ZONE="${WORLD_BLACKHOLE_ZONES%% *}" \
	DNS_TEST_DIR="$W/tmp"
: "${ASAN_OPTIONS:=detect_leaks=1:abort_on_error=1}"
: "${UBSAN_OPTIONS:=print_stacktrace=1:halt_on_error=1}"
: "${TSAN_OPTIONS:=halt_on_error=1:second_deadlock_stack=1}"
export ASAN_OPTIONS UBSAN_OPTIONS TSAN_OPTIONS

world_step "dns_world_test ${DNS_TEST_FILTER:+(cases $DNS_TEST_FILTER)}"
"$bin" || world_fail "dns_world_test failed (exit $?)"
