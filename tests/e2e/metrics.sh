#!/bin/bash
# metrics.sh - Prometheus metrics end to end: after real mail through
# Postfix, "relaygatectl metrics" (stdout and -o FILE) and the daemon's
# loopback listener (metrics.listen) serve text that a strict parser of
# the exposition format (promparse.py) accepts, with the counts this test
# caused (messages by action, checks by result, DNS queries and their
# latency histogram, cache lookups, domains by state); both exposures say
# the same; the listener answers only GET /metrics, refuses oversized
# requests, drops a silent client after its deadline without holding up
# mail; a non-loopback listen address needs metrics.allow_remote.
#
# Run as root: bash tests/e2e/metrics.sh   (exit 0 = pass)
# RELAYGATECTL_BIN names the CLI under test; default: relaygatectl next to
# RELAYGATE_BIN, else the newest build/*/milter/relaygatectl.
# shellcheck disable=SC2119  # world functions with optional arguments
set -euo pipefail
export WORLD_TIMEOUT=${WORLD_TIMEOUT:-150}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../world/world.sh
. "$here/../world/world.sh"
# shellcheck source-path=SCRIPTDIR source=lib_ctl.sh
. "$here/lib_ctl.sh"
# shellcheck source-path=SCRIPTDIR source=lib_mail.sh
. "$here/lib_mail.sh"
world_enter "$@"
ctl_init

log="$W/log/relaygate.log"
listen=127.0.0.1:9787
url="http://$listen/metrics"
prom() { "$WORLD_PY" "$here/promparse.py" "$@"; }

world_step "the parser itself refuses broken texts"
prom --selftest >/dev/null || world_fail "promparse.py --selftest"

world_step "a listener beyond loopback needs metrics.allow_remote"
bin=$(_world_relaygate_bin)
# conf_with GROUP - the world's configuration plus a metrics group
conf_with() {
	cat "$WORLD_HOME/relaygate-test.conf"
	printf 'metrics: { %s };\n' "$1"
}
conf_with 'listen = "192.0.2.1:9787";' | sed "s|@W@|$W|g" >"$W/tmp/remote.conf"
rc=0
"$bin" -n -c "$W/tmp/remote.conf" >"$W/tmp/remote.out" 2>&1 || rc=$?
((rc == 1)) || world_fail "relaygate -n accepted a remote listener"
assert_grep "$W/tmp/remote.out" 'metrics\.listen.*not a loopback address'
conf_with 'listen = "192.0.2.1:9787"; allow_remote = true;' |
	sed "s|@W@|$W|g" >"$W/tmp/remote.conf"
"$bin" -n -c "$W/tmp/remote.conf" >/dev/null ||
	world_fail "relaygate -n refused allow_remote = true"

world_dns_start
world_sink_start
conf_with "listen = \"$listen\";" >"$W/tmp/metrics.conf"
world_relaygate_start "$W/tmp/metrics.conf"
world_postfix_start relay
world_log_wait "$log" "event=metrics listen=$listen path=/metrics"

world_step "mail: 3 signed, 2 tagged, 2 domains checked"
for d in good.test good.test nodkim.test good.test nodkim.test; do
	mail_send "$d"
done

# The samples this mail must have produced.
expect=(
	'family relaygate_messages_total counter'
	'relaygate_messages_total{action="sign"} == 3'
	'relaygate_messages_total{action="tag"} == 2'
	'relaygate_messages_total{action="defer"} == 0'
	'relaygate_checks_total{result="configured"} == 1'
	'relaygate_checks_total{result="partial"} == 1'
	'relaygate_checks_total{result="temporary"} == 0'
	'family relaygate_dns_query_duration_seconds histogram'
	'relaygate_dns_query_duration_seconds_count >= 8'
	'relaygate_dns_query_duration_seconds_bucket{le="+Inf"} >= 8'
	'relaygate_dns_query_duration_seconds_sum > 0'
	'relaygate_dns_queries_total{outcome="ok"} >= 4'
	'relaygate_dns_queries_total{outcome="nxdomain"} >= 1'
	'relaygate_dns_timeouts_total == 0'
	'relaygate_cache_lookups_total{result="hit"} >= 3'
	'relaygate_cache_lookups_total{result="miss"} >= 2'
	'relaygate_cache_evictions_total == 0'
	'relaygate_cache_entries == 2'
	'relaygate_domains{state="configured"} == 1'
	'relaygate_domains{state="partial"} == 1'
	'relaygate_domains{state="unconfigured"} == 0'
	'family relaygate_domains gauge'
)

world_step "relaygatectl metrics parses, with these counts"
ctl metrics metrics
assert_rc 0 "relaygatectl metrics"
prom "$CTL_OUT" "${expect[@]}" >"$W/tmp/ctl.samples" 2>"$W/tmp/ctl.err" ||
	world_fail "relaygatectl metrics: $(<"$W/tmp/ctl.err")"
ctl metrics-file metrics -o "$W/tmp/textfile/relaygate.prom"
assert_rc 2 "metrics -o into a missing directory"
mkdir -p "$W/tmp/textfile"
ctl metrics-file metrics -o "$W/tmp/textfile/relaygate.prom"
assert_rc 0 "relaygatectl metrics -o"
[[ -s $W/tmp/textfile/relaygate.prom &&
	$(find "$W/tmp/textfile" -type f | wc -l) == 1 ]] ||
	world_fail "metrics -o: not exactly the one file: $(ls "$W/tmp/textfile")"
prom "$W/tmp/textfile/relaygate.prom" "${expect[@]}" >/dev/null ||
	world_fail "metrics -o FILE does not parse"
ctl metrics-usage metrics --nonsense
assert_rc 2 "metrics --nonsense"

world_step "GET /metrics on the listener: the same text"
curl -sS -D "$W/tmp/http.head" -o "$W/tmp/http.prom" "$url" ||
	world_fail "curl $url failed"
assert_grep "$W/tmp/http.head" '^HTTP/1.1 200 OK'
assert_grep "$W/tmp/http.head" \
	'^Content-Type: text/plain; version=0\.0\.4; charset=utf-8'
prom "$W/tmp/http.prom" "${expect[@]}" >"$W/tmp/http.samples" \
	2>"$W/tmp/http.err" || world_fail "GET /metrics: $(<"$W/tmp/http.err")"
# The cache lookups counter moves with every request; all else is equal.
diff <(grep -v cache_lookups "$W/tmp/ctl.samples") \
	<(grep -v cache_lookups "$W/tmp/http.samples") >"$W/tmp/diff" ||
	world_fail "relaygatectl and the listener differ: $(<"$W/tmp/diff")"
curl -sS -o "$W/tmp/q.prom" "$url?x=1" || world_fail "GET /metrics?x=1"
prom "$W/tmp/q.prom" >/dev/null || world_fail "GET /metrics?x=1: not parsed"
code=$(curl -sS -o /dev/null -w '%{http_code}' -I "$url")
[[ $code == 200 ]] || world_fail "HEAD /metrics: $code"

world_step "anything else is refused; the listener stays bounded"
"$WORLD_PY" - "${listen%:*}" "${listen#*:}" <<'PY' || world_fail "raw HTTP checks"
import socket, sys, time
host, port = sys.argv[1], int(sys.argv[2])

def ask(data, wait=5):
    s = socket.create_connection((host, port), timeout=wait)
    s.sendall(data)
    out = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        out += chunk
    s.close()
    return out.split(b"\r\n", 1)[0].decode()

checks = [
    (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 404 Not Found"),
    (b"GET /metricsx HTTP/1.1\r\n\r\n", "HTTP/1.1 404 Not Found"),
    (b"POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
     "HTTP/1.1 405 Method Not Allowed"),
    (b"hello\r\n\r\n", "HTTP/1.1 400 Bad Request"),
    (b"GET /metrics HTTP/1.1\r\nX: " + b"a" * 5000 + b"\r\n\r\n",
     "HTTP/1.1 431 Request Header Fields Too Large"),
    (b"GET /metrics HTTP/1.0\n\n", "HTTP/1.1 200 OK"),
]
for data, want in checks:
    got = ask(data)
    assert got == want, (data[:40], got, want)
# A silent client is dropped at the deadline (2 s), then others are served.
idle = socket.create_connection((host, port))
t0 = time.monotonic()
got = ask(b"GET /metrics HTTP/1.1\r\n\r\n", wait=10)
took = time.monotonic() - t0
assert got == "HTTP/1.1 200 OK" and 1.0 < took < 4.0, (got, took)
assert idle.recv(1) == b""  # closed without an answer
PY

world_step "a silent client does not hold up mail"
exec 7<>"/dev/tcp/${listen%:*}/${listen#*:}"
t0=$EPOCHREALTIME
mail_send good.test
exec 7>&-
awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { exit !(b - a < 1.5) }' ||
	world_fail "a message took $(awk -v a="$t0" -v b="$EPOCHREALTIME" \
		'BEGIN { print b - a }') s while the listener was busy"
curl -sS -o "$W/tmp/http2.prom" "$url" || world_fail "curl after"
prom "$W/tmp/http2.prom" 'relaygate_messages_total{action="sign"} == 4' \
	>/dev/null || world_fail "the listener after more mail"

world_relaygate_stop
assert_eq 0 "$WORLD_RELAYGATE_STATUS" "relaygate's exit status"
world_log "metrics: OK"
