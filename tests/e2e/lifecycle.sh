#!/bin/bash
# lifecycle.sh - the daemon's life: it drops root for the configured user
# after opening its socket (owned by that user, group postfix, mode 0660),
# writes its pid file, refuses to start on a socket another instance
# serves, and on SIGTERM lets a session in progress finish its message
# before it exits, removing socket and pid file.
#
# Run as root: bash tests/e2e/lifecycle.sh   (exit 0 = pass)
set -euo pipefail
export WORLD_TIMEOUT=${WORLD_TIMEOUT:-60}
# shellcheck source-path=SCRIPTDIR source=../world/world.sh
. "$(dirname "$0")/../world/world.sh"
world_enter "$@"

log="$W/log/relaygate.log"
world_dns_start
world_sink_start
world_relaygate_start
world_postfix_start relay
pid=$WORLD_RELAYGATE_PID
sock="$W/run/relaygate.sock"

world_step "privileges dropped; socket and pid file as configured"
uids=$(awk '/^Uid:/ { print $2, $3, $4, $5 }' "/proc/$pid/status")
nobody=$(id -u nobody)
assert_eq "$nobody $nobody $nobody $nobody" "$uids" "relaygate's uids"
assert_eq "$(getent group nogroup | cut -d: -f3)" \
	"$(awk '/^Gid:/ { print $2 }' "/proc/$pid/status")" "relaygate's gid"
assert_eq "srw-rw---- nobody postfix" "$(stat -c '%A %U %G' "$sock")" \
	"the socket's mode, owner and group"
assert_eq "$pid" "$(cat "$W/run/relaygate.pid")" "the pid file"

world_step "a second instance on the same socket refuses to start"
rc=0
"$(_world_relaygate_bin)" -f -c "$W/relaygate.conf" \
	>"$W/tmp/second.log" 2>&1 || rc=$?
assert_eq 1 "$rc" "the second instance's exit status"
assert_grep "$W/tmp/second.log" 'is in use by a running process'
kill -0 "$pid" || world_fail "the first instance died"

world_step "SIGTERM during a session: its message is still handled, new ones wait"
"$WORLD_PY" "$WORLD_HOME/py/smtpsend.py" --from alice@good.test \
	--pause-before-data 2 --ready-file "$W/tmp/paused" \
	>"$W/tmp/slow.txt" 2>&1 &
client=$!
world_wait 5 test -f "$W/tmp/paused" || world_fail "the client never paused"
world_relaygate_signal TERM
world_log_wait "$log" 'event=stopping'
# While it drains, a new session's mail is deferred, with the reason.
world_smtp_send --from alice@good.test
assert_grep "$WORLD_SMTP" '^MAIL 451 4\.3\.2 relaygate is restarting' \
	"a session opened during the drain"
wait "$client" || true
assert_grep "$W/tmp/slow.txt" '^RESULT accepted$' "the paused session"
world_sink_wait 1
world_log_wait "$log" 'event=message .*env_domain=good\.test .*action=sign selector=prezent-a'
# The drain ends by itself once Postfix closes the session; a second TERM
# now would force the stop (and cut the session) instead.
world_wait 15 _world_gone "$pid" ||
	world_fail "relaygate did not stop after its last session ended"
world_relaygate_stop 15
assert_eq 0 "$WORLD_RELAYGATE_STATUS" "relaygate's exit status"
assert_grep "$log" 'event=stop sessions_cut=0 messages=1 contexts_alive=0'
[[ ! -e $sock ]] || world_fail "the socket file is still there"

world_step "after the stop, new sessions are deferred"
world_smtp_send --from alice@good.test
assert_smtp MAIL '4??'
world_log "lifecycle: OK"
