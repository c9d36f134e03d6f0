#!/bin/bash
# abort_paths.sh - a message context is freed exactly once whatever the
# SMTP client does: RSET, QUIT or a dropped connection at every stage, two
# messages in one session.  Only completed messages get a decision line;
# at stop no context is left alive, and the ASan build of the daemon
# (when tests run it) reports no leak or double free.  Also: relaygate on
# an inet socket bound to loopback only.
#
# Run as root: bash tests/e2e/abort_paths.sh   (exit 0 = pass)
set -euo pipefail
export WORLD_TIMEOUT=${WORLD_TIMEOUT:-60}
# shellcheck source-path=SCRIPTDIR source=../world/world.sh
. "$(dirname "$0")/../world/world.sh"
world_enter "$@"

log="$W/log/relaygate.log"
world_dns_start
world_sink_start

world_step "relaygate on inet:8891@127.0.0.1 binds loopback only"
sed 's|socket = "unix:@W@/run/relaygate.sock";|socket = "inet:8891@127.0.0.1";|' \
	"$WORLD_HOME/relaygate-test.conf" >"$W/tmp/inet.conf"
WORLD_MILTER_SOCKET=127.0.0.1:8891
world_relaygate_start "$W/tmp/inet.conf"
assert_eq "127.0.0.1:8891" "$(ss -Hltn 'sport = :8891' | awk '{ print $4 }')" \
	"the listening address"
# Each accepted session socket has TCP_NODELAY (mserve, tcptune.h).
assert_eq "nodelay=1" "$("$WORLD_PY" "$WORLD_HOME/py/sockopt.py" \
	"$WORLD_RELAYGATE_PID" 8891 2>&1)" "TCP_NODELAY on relaygate's inet socket"
WORLD_RELAY_MILTERS=inet:127.0.0.1:8891 world_postfix_start relay

world_step "sessions ending at every stage"
"$WORLD_PY" "$WORLD_HOME/py/smtpabort.py" 127.0.0.1 25 alice@good.test \
	>"$W/tmp/abort.txt" 2>&1 || world_fail "smtpabort: $(cat "$W/tmp/abort.txt")"
assert_grep "$W/tmp/abort.txt" '^DONE 7$'
world_sink_wait 2
world_log_wait "$log" 'event=message .*action=sign'
sleep 0.5
assert_eq 2 "$(grep -c 'event=message ' "$log")" \
	"decision lines (only the two completed messages)"

world_step "stop: no message context left alive"
world_postfix_stop relay
world_relaygate_stop 15
assert_eq 0 "$WORLD_RELAYGATE_STATUS" "relaygate's exit status"
assert_grep "$log" 'event=stop sessions_cut=0 messages=2 contexts_alive=0'
world_log "abort_paths: OK"
