# world.sh - the hermetic end-to-end test world of relaygate (a bash library).
#
# An e2e test (or contrib/demo.sh) sources this file and calls world_enter
# "$@" first.  The script is then run again, as root, inside private mount,
# network and PID namespaces (unshare), where only loopback exists and all
# of 127.0.0.0/8 is usable.  Inside, the world offers:
#
#   127.0.0.1:53   unbound, recursive, iterating from a private root
#   127.0.0.2:53   nsd, authoritative for ".", test., nl. and the zones made
#                  from tests/world/zones/*.zone (templates, keys filled in)
#   127.0.0.53:53  a black hole (reads queries, never answers); slow.test is
#                  delegated to it, so its names time out for real
#   127.0.0.1:25   the relay Postfix ($W/relay), milter = relaygate
#   127.0.0.3      the outbox Postfix ($W/outbox), a customer's server that
#                  relays to 127.0.0.1:25 and keeps what gets a 4xx
#   127.0.0.1:2526 smtp-sink, one file per delivered message in $W/sink/
#
# Everything lives in the world directory $W (a tmpfs inside the namespace,
# a mktemp directory on the host): keys/, dns/, relay/, outbox/, sink/,
# run/ (sockets, pid files), log/ (one log per component), tmp/.
# /etc/resolv.conf and /dev are replaced by namespace-private mounts; the
# host's files are never touched.
#
# Three processes stack up (test-world.md section 13 explains why):
#   host stage  the script as started: creates $W, runs unshare, forwards
#               TERM/INT, checks that nothing of the world lives, removes $W
#   ns stage    PID 1 of the namespace: mounts, runs the test stage as a
#               background job, enforces WORLD_TIMEOUT, reaps orphans,
#               fails the run if the test left processes behind; if the
#               host stage dies (SIGKILL), it stops the test at once and
#               removes $W itself (the "lifeline", a pipe between them)
#   test stage  the test itself: world_enter returns here; an EXIT trap
#               stops, by PID, everything the world started
#
# Settings (environment): WORLD_DIR (parent of $W, default $TMPDIR or /tmp),
# WORLD_KEEP=1 (keep $W on disk after the run, for debugging),
# WORLD_TIMEOUT (seconds for the whole run, default 120), WORLD_WAIT
# (default bound of every wait, seconds, default 5), WORLD_ZONE_DIRS and
# WORLD_BLACKHOLE_ZONES (see world_dns_start), RELAYGATE_BIN (the daemon),
# WORLD_TRACE=1 (bash xtrace of all stages, time-stamped, on stderr).
#
# Conventions: functions named world_* and assert_* are the interface;
# _world_* are internal.  Every wait is bounded.  assert_* and world_fail
# exit the test, so call them from the test's own shell, not from $(...).

# shellcheck shell=bash disable=SC2034,SC2119
# (SC2034: WORLD_* results such as WORLD_TOKEN are read by the tests;
#  SC2119: functions with optional arguments are called without them.)
WORLD_HOME=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
WORLD_REPO=$(cd "$WORLD_HOME/../.." && pwd)
WORLD_PY=/usr/bin/python3	# Debian's, with dnspython and dkim
: "${WORLD_TIMEOUT:=120}"
: "${WORLD_WAIT:=5}"
: "${WORLD_ZONE_DIRS:=$WORLD_HOME/zones}"
: "${WORLD_BLACKHOLE_ZONES:=slow.test}"
: "${WORLD_MILTER_USER:=nobody}"
: "${WORLD_MILTER_GROUP:=nogroup}"
WORLD_DNS_RESOLVER=127.0.0.1
WORLD_DNS_AUTH=127.0.0.2
WORLD_DNS_BLACKHOLE=127.0.0.53
WORLD_RELAY_ADDR=127.0.0.1
WORLD_OUTBOX_ADDR=127.0.0.3
WORLD_SINK_ADDR=127.0.0.1
WORLD_SINK_PORT=2526
WORLD_SELECTORS="prezent-a prezent-b"
export PATH="/usr/sbin:/usr/bin:/sbin:/bin:$PATH" LC_ALL=C

# ---------------------------------------------------------------------------
# Entering the world
# ---------------------------------------------------------------------------

# world_enter "$@" - run the calling script inside the world.  On the host
# this never returns (the script's exit status is the test's); inside the
# namespace it prepares the test stage and returns.  Call it at the top
# level of a script file, before anything with side effects: the script is
# run again from its start in each stage.  The test's standard input is
# /dev/null.
world_enter() {
	if [[ ${WORLD_TRACE:-0} == 1 ]]; then
		PS4='+ ${WORLD_STAGE:-host} $EPOCHREALTIME ${FUNCNAME[0]:-main}: '
		set -x
	fi
	case "${WORLD_STAGE:-}" in
	"") _world_host_stage "$@" ;;
	ns) _world_ns_stage "$@" ;;
	test) _world_test_stage ;;
	*) echo "world: bad WORLD_STAGE=$WORLD_STAGE" >&2; exit 1 ;;
	esac
}

# _world_host_stage - create $W, run the script under unshare, clean up.
_world_host_stage() {
	local script rc
	[[ $(id -u) == 0 ]] || { echo "world: must run as root" >&2; exit 1; }
	script=$(readlink -f "$0")
	[[ -f $script ]] ||
		{ echo "world: world_enter needs a script file, not $0" >&2; exit 1; }
	W=$(mktemp -d "${WORLD_DIR:-${TMPDIR:-/tmp}}/relaygate-world.XXXXXX")
	chmod 0755 "$W"
	export W WORLD_STAGE=ns WORLD_T0="$EPOCHREALTIME"
	trap '_world_host_cleanup' EXIT
	# The lifeline: the namespace reads fd 3, only this stage writes (it
	# never does); when this stage dies, the namespace reads EOF.
	mkfifo -m 0600 "$W/.lifeline"
	exec {_WORLD_LIFELINE}<>"$W/.lifeline"
	# setsid: a Ctrl-C on the terminal reaches only this stage, which
	# tears the world down in order; nsd or unbound would die on it.
	setsid unshare --mount --net --pid --fork --kill-child --mount-proc \
		-- /bin/bash "$script" "$@" 3<"$W/.lifeline" \
		{_WORLD_LIFELINE}>&- &
	_WORLD_UNSHARE=$!
	_world_host_nsid
	_WORLD_SIGNAL=0
	trap '_world_host_signal 15' TERM
	trap '_world_host_signal 2' INT
	trap '_world_host_signal 1' HUP
	_world_wait_child "$_WORLD_UNSHARE"
	rc=$_WORLD_RC
	((_WORLD_SIGNAL == 0)) || rc=$((128 + _WORLD_SIGNAL))
	_world_host_check_gone || { ((rc != 0)) || rc=1; }
	exit "$rc"
}

# _world_wait_child PID - wait for a child to exit, through trapped signals;
# its exit status is left in _WORLD_RC (not printed: a $(...) subshell
# could not wait for its parent's children).
_world_wait_child() {
	while :; do
		wait "$1" 2>/dev/null || true
		_world_gone "$1" && break
	done
	wait "$1" 2>/dev/null && _WORLD_RC=0 || _WORLD_RC=$?
}

# _world_host_nsid - find the namespace's PID 1 (the first descendant of
# unshare in another pid namespace) and remember it and the namespace's id,
# to signal it and to check after the run that none of its processes
# survived.  Bounded: gives up after 2 s (then neither is done).
_world_host_nsid() {
	local i p self ns
	self=$(readlink /proc/self/ns/pid)
	_WORLD_NSINIT="" _WORLD_NSID=""
	for ((i = 0; i < 100; i++)); do
		p=$_WORLD_UNSHARE
		while [[ -n $p ]]; do
			ns=$(readlink "/proc/$p/ns/pid" 2>/dev/null) || break
			if [[ $ns != "$self" ]]; then
				_WORLD_NSINIT=$p _WORLD_NSID=$ns
				return
			fi
			read -r p _ < <(_world_children "$p") || true
		done
		sleep 0.02
	done
}

# _world_host_signal SIGNO - TERM/INT/HUP on the host: ask the namespace's
# PID 1 to tear down (unshare itself ignores these signals while it waits),
# and kill unshare (hence, via --kill-child, the whole namespace) if that
# takes more than WORLD_TIMEOUT_GRACE seconds.  The run exits 128+SIGNO.
_world_host_signal() {
	_WORLD_SIGNAL=$1
	echo "world: signal $1 received, tearing down" >&2
	[[ -z $_WORLD_NSINIT ]] || kill -TERM "$_WORLD_NSINIT" 2>/dev/null || true
	_world_wait_gone "$_WORLD_UNSHARE" "${WORLD_TIMEOUT_GRACE:-15}" ||
		kill -KILL "$_WORLD_UNSHARE" 2>/dev/null || true
}

# _world_host_check_gone - fail if a process of the world's PID namespace is
# still alive after unshare returned (the kernel should have killed them).
_world_host_check_gone() {
	local p n=0
	[[ -n $_WORLD_NSID ]] || return 0
	for p in /proc/[0-9]*/ns/pid; do
		[[ $(readlink "$p" 2>/dev/null) == "$_WORLD_NSID" ]] || continue
		n=$((n + 1))
	done
	((n == 0)) && return 0
	echo "world: FAIL: $n processes of the world still alive" >&2
	return 1
}

# _world_host_cleanup - remove $W (normally the namespace already did:
# the tmpfs is gone with it), or keep it if WORLD_KEEP=1.
_world_host_cleanup() {
	if [[ ${WORLD_KEEP:-0} == 1 ]]; then
		echo "world: kept $W" >&2
	else
		rm -rf --one-file-system "$W"
	fi
}

# _world_ns_stage - PID 1 of the namespace: set it up, run the test stage
# in the background (so that signals are handled at once), bound its time,
# check it left nothing running.
_world_ns_stage() {
	local rc
	_world_ns_mounts
	_world_ns_timer &
	_WORLD_TIMER=$!
	WORLD_TIMER_PID=$_WORLD_TIMER WORLD_STAGE=test \
		/bin/bash "$(readlink -f "$0")" "$@" 3<&- &
	_WORLD_TEST=$!
	trap '_world_ns_signal' TERM INT HUP
	_world_ns_wait
	rc=$_WORLD_RC
	kill "$_WORLD_TIMER" 2>/dev/null || true
	wait "$_WORLD_TIMER" 2>/dev/null || true
	_world_ns_leftovers || { ((rc != 0)) || rc=1; }
	_world_ns_cleanup
	exit "$rc"
}

# _world_ns_timer - the watchdog: returns 0 after WORLD_TIMEOUT s, or 1 as
# soon as the host stage is gone (EOF on the lifeline, fd 3).
_world_ns_timer() {
	local rc=0 line
	read -r -t "$WORLD_TIMEOUT" -u 3 line || rc=$?
	((rc > 128)) && return 0
	return 1
}

# _world_ns_cleanup - unmount and remove $W (the host stage may be gone),
# unless WORLD_KEEP=1.
_world_ns_cleanup() {
	[[ ${WORLD_KEEP:-0} != 1 ]] || return 0
	umount -l /etc/resolv.conf 2>/dev/null || true
	umount -l "$W" 2>/dev/null || true
	rm -f "$W/.lifeline"
	rmdir "$W" 2>/dev/null || true
}

# _world_ns_wait - wait for the test stage or the timer, whichever ends
# first; when the timer does, stop the test.  The test's exit status goes
# to _WORLD_RC (124 on timeout, 137 if the host stage was killed).
_world_ns_wait() {
	while ! _world_gone "$_WORLD_TEST"; do
		wait -n "$_WORLD_TEST" "$_WORLD_TIMER" 2>/dev/null || true
		_world_gone "$_WORLD_TIMER" || continue
		_world_gone "$_WORLD_TEST" && break
		if wait "$_WORLD_TIMER"; then
			echo "world: FAIL: test still running after" \
				"WORLD_TIMEOUT=${WORLD_TIMEOUT}s, stopping it" >&2
			_WORLD_RC=124
		else
			echo "world: the host stage is gone, stopping" >&2
			_WORLD_RC=137
		fi
		_world_ns_stop_test
		return
	done
	_world_wait_child "$_WORLD_TEST"
}

# _world_ns_signal - TERM in the namespace: stop the test (its EXIT trap
# tears the world down), then leave; the kernel kills what remains.
_world_ns_signal() {
	_world_ns_stop_test
	exit 143
}

# _world_ns_stop_test - TERM the test stage and the command it is running
# (bash runs its trap, hence the teardown, only when that command ends),
# wait for it (bounded); if it must be killed, tear down from here.
_world_ns_stop_test() {
	local c
	kill -TERM "$_WORLD_TEST" 2>/dev/null || true
	for c in $(_world_children "$_WORLD_TEST"); do
		_world_is_daemon "$c" || kill -TERM "$c" 2>/dev/null || true
	done
	_world_wait_gone "$_WORLD_TEST" "${WORLD_TIMEOUT_GRACE:-15}" && return
	kill -KILL "$_WORLD_TEST" 2>/dev/null || true
	world_teardown
}

# _world_is_daemon PID - true if PID is a process of the world (recorded in
# $W/run/pids by _world_spawn).
_world_is_daemon() {
	grep -qxF -- "$1" "$W"/run/pids/* 2>/dev/null
}

# _world_ns_leftovers - non-zero if processes other than PID 1 are still
# alive in the namespace after the test stage ended (after a short grace
# for processes that are exiting); they are listed.
_world_ns_leftovers() {
	local left i
	for ((i = 0; i < 40; i++)); do
		left=$(world_processes)
		[[ -n $left ]] || return 0
		sleep 0.05
	done
	echo "world: FAIL: processes left after teardown:$left" >&2
	return 1
}

# world_processes - the live processes of the namespace, as " PID(name)",
# except the world's own stages: PID 1, its timer, the test stage ($$) and
# the calling (sub)shell.  Empty once world_teardown has run.
world_processes() {
	local p left=""
	for p in /proc/[0-9]*; do
		p=${p#/proc/}
		[[ $p != 1 && $p != "${WORLD_TIMER_PID:-}" && $p != "$$" &&
			$p != "$BASHPID" ]] || continue
		_world_gone "$p" || left+=" $p($(_world_comm "$p"))"
	done
	echo "$left"
}

# _world_ns_mounts - private mounts, loopback, the world directory,
# resolv.conf and /dev.
_world_ns_mounts() {
	local a
	mount --make-rprivate /
	ip link set lo up
	# All of 127/8 routes to lo, but Postfix accepts an inet_interfaces
	# address only if an interface carries it.
	for a in "$WORLD_DNS_AUTH" "$WORLD_OUTBOX_ADDR" "$WORLD_DNS_BLACKHOLE"; do
		ip addr add "$a/32" dev lo
	done
	if [[ ${WORLD_KEEP:-0} != 1 ]]; then
		mount -t tmpfs -o mode=0755,size=1g world "$W"
	fi
	mkdir -p "$W"/{etc,log,run/pids,dns/zones,dns/src,keys,sink,tmp}
	chmod 1777 "$W/tmp"
	printf 'nameserver %s\noptions timeout:2 attempts:1\n' \
		"$WORLD_DNS_RESOLVER" >"$W/etc/resolv.conf"
	chmod 0644 "$W/etc/resolv.conf"
	mount --bind "$W/etc/resolv.conf" /etc/resolv.conf
	_world_ns_dev
}

# _world_ns_dev - a namespace-private /dev: a small tmpfs holding binds of
# the host's basic device nodes, a devpts instance of its own (for
# "script"), a private shm (relaygate's shared-memory cache) and room for
# the world's /dev/log socket (test-world.md section 5).
_world_ns_dev() {
	local d="$W/.dev" n
	mkdir -p "$d"
	mount -t tmpfs -o mode=0755,size=1m worlddev "$d"
	for n in null zero full random urandom tty; do
		[[ -e /dev/$n ]] || continue
		touch "$d/$n"
		mount --bind "/dev/$n" "$d/$n"
	done
	mkdir "$d/pts" "$d/shm"
	mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 worldpts "$d/pts"
	ln -s pts/ptmx "$d/ptmx"
	mount -t tmpfs -o mode=1777 worldshm "$d/shm"
	ln -s /proc/self/fd "$d/fd"
	ln -s /proc/self/fd/0 "$d/stdin"
	ln -s /proc/self/fd/1 "$d/stdout"
	ln -s /proc/self/fd/2 "$d/stderr"
	mount --move "$d" /dev
}

# _world_test_stage - the test's side: teardown on exit, /dev/log.
_world_test_stage() {
	trap '_world_on_exit' EXIT
	trap 'exit 143' TERM
	trap 'exit 130' INT
	declare -gA WORLD_VARS=(
		[W]="$W" [DNS_RESOLVER]="$WORLD_DNS_RESOLVER"
		[DNS_AUTH]="$WORLD_DNS_AUTH"
		[DNS_BLACKHOLE]="$WORLD_DNS_BLACKHOLE"
		[RELAY_ADDR]="$WORLD_RELAY_ADDR"
		[OUTBOX_ADDR]="$WORLD_OUTBOX_ADDR"
		[SINK_ADDR]="$WORLD_SINK_ADDR" [SINK_PORT]="$WORLD_SINK_PORT")
	WORLD_MILTER_SOCKET="$W/run/relaygate.sock"
	chown "$WORLD_MILTER_USER:postfix" "$W/run"
	chmod 0750 "$W/run"
	_world_spawn syslogd "$WORLD_PY" "$WORLD_HOME/py/syslogd.py" \
		/dev/log "$W/log/syslog"
	world_wait "$WORLD_WAIT" test -S /dev/log ||
		world_fail "the world's syslog reader did not start"
}

# _world_on_exit - EXIT trap of the test stage: report, stop everything the
# world started (by PID), keep the exit status.
_world_on_exit() {
	local rc=$?
	set +e
	trap - TERM INT
	world_teardown
	# A sanitizer report from the daemon fails the test even if every
	# assertion held (e2e runs the ASan+UBSan build when there is one).
	if ((rc == 0)) && grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' \
		"$W/log/relaygate.log" 2>/dev/null; then
		world_log "relaygate's log holds a sanitizer report"
		rc=1
	fi
	if ((rc != 0)); then
		world_dump_logs
		world_log "FAILED (exit $rc)"
	else
		world_log "passed"
	fi
	exit "$rc"
}

# world_teardown - stop everything the world started: both Postfix
# instances, relaygate, then every other process by its PID.  Idempotent.
world_teardown() {
	local pf name
	for pf in relay outbox; do
		_world_postfix_stop "$pf" ||
			world_log "postfix $pf did not stop, killed its master"
	done
	[[ ! -f $W/run/pids/relaygate ]] ||
		_world_stop relaygate "${WORLD_TEARDOWN_GRACE:-3}" || true
	for name in "$W"/run/pids/*; do
		[[ -f $name ]] || continue
		kill -TERM "$(<"$name")" 2>/dev/null || true
	done
	for name in "$W"/run/pids/*; do
		[[ -f $name ]] || continue
		_world_stop "${name##*/}" "${WORLD_TEARDOWN_GRACE:-3}" || true
	done
	return 0
}

# ---------------------------------------------------------------------------
# Processes, waiting, logging
# ---------------------------------------------------------------------------

# _world_children PID - the PIDs of a process's children (one per line).
_world_children() {
	cat "/proc/$1/task/$1/children" 2>/dev/null ||
		pgrep -P "$1" 2>/dev/null || true
}

# _world_state PID - the process state letter (R, S, Z, ...), empty if gone.
_world_state() {
	local st=""
	{ read -r st <"/proc/$1/stat"; } 2>/dev/null || return 0
	st=${st##*) }
	echo "${st%% *}"
}

# _world_comm PID - the process's command name.
_world_comm() {
	local c=""
	{ read -r c <"/proc/$1/comm"; } 2>/dev/null || true
	echo "$c"
}

# _world_gone PID - true if the process has exited (a zombie counts as gone).
_world_gone() {
	local s
	s=$(_world_state "$1")
	[[ -z $s || $s == Z || $s == X ]]
}

# _world_wait_gone PID SECONDS - wait (bounded) until the process is gone.
_world_wait_gone() {
	world_wait "$2" _world_gone "$1"
}

# _world_spawn NAME CMD... - start CMD in the background, output appended
# to $W/log/NAME.log, PID recorded in $W/run/pids/NAME (and WORLD_PID).
_world_spawn() {
	local name=$1
	shift
	"$@" >>"$W/log/$name.log" 2>&1 </dev/null &
	WORLD_PID=$!
	echo "$WORLD_PID" >"$W/run/pids/$name"
}

# _world_pid NAME - the PID of a process started by _world_spawn.
_world_pid() {
	[[ -f $W/run/pids/$1 ]] && echo "$(<"$W/run/pids/$1")"
}

# _world_stop NAME SECONDS - TERM the process NAME, wait (bounded), KILL it
# if needed (then _WORLD_KILLED=1); reap it.  Returns its exit status.
_world_stop() {
	local pid rc=0
	_WORLD_KILLED=0
	pid=$(_world_pid "$1") || return 0
	kill -TERM "$pid" 2>/dev/null || true
	if ! _world_wait_gone "$pid" "$2"; then
		world_log "$1 (pid $pid) ignored SIGTERM for $2 s, killing it"
		_WORLD_KILLED=1
		kill -KILL "$pid" 2>/dev/null || true
		_world_wait_gone "$pid" 2 || true
	fi
	wait "$pid" 2>/dev/null || rc=$?
	rm -f "$W/run/pids/$1"
	return "$rc"
}

# _world_ms SECONDS - seconds (decimals allowed) as integer milliseconds.
_world_ms() {
	local int=${1%%.*} frac=""
	[[ $1 != *.* ]] || frac=${1#*.}
	frac="${frac}000"
	echo $((10#${int:-0} * 1000 + 10#${frac:0:3}))
}

# _world_now_ms - the current time in milliseconds.
_world_now_ms() {
	local t=$EPOCHREALTIME
	echo $((10#${t%.*} * 1000 + 10#${t#*.} / 1000))
}

# world_wait SECONDS CMD... - run CMD every 50 ms until it succeeds (0), or
# it returns 2 (hopeless: stop at once), or SECONDS have passed (1).
world_wait() {
	local deadline rc
	deadline=$(($(_world_now_ms) + $(_world_ms "$1")))
	shift
	while :; do
		"$@" && return 0 || rc=$?
		((rc != 2)) || return 2
		(($(_world_now_ms) < deadline)) || return 1
		sleep 0.05
	done
}

# world_elapsed - seconds since the run started, e.g. "3.14".
world_elapsed() {
	local ms
	ms=$(($(_world_now_ms) - $(_world_ms "${WORLD_T0:-$EPOCHREALTIME}")))
	printf '%d.%02d' $((ms / 1000)) $((ms % 1000 / 10))
}

# world_log MSG... - a line on stderr, stamped with the elapsed time.
world_log() {
	printf '[%6ss] %s\n' "$(world_elapsed)" "$*" >&2
}

# world_step MSG... - announce the next step of a test.
world_step() {
	world_log "--- $*"
}

# world_fail MSG... - fail the test with a message (logs are dumped by the
# EXIT trap).
world_fail() {
	world_log "FAIL: $*"
	exit 1
}

# world_dump_logs - the last lines of every log of the world, on stderr.
world_dump_logs() {
	local f
	for f in "$W"/log/*; do
		[[ -s $f ]] || continue
		printf '\n===== %s (last %s lines) =====\n' "${f#"$W"/}" \
			"${WORLD_LOG_LINES:-40}" >&2
		tail -n "${WORLD_LOG_LINES:-40}" "$f" >&2
	done
	printf '\n' >&2
}

# world_render TEMPLATE OUT [NAME=VALUE...] - copy TEMPLATE to OUT with
# every @NAME@ replaced from WORLD_VARS and the extra NAME=VALUE pairs; a
# placeholder left unfilled fails the test.
world_render() {
	local text
	text=$(<"$1")
	_world_fill text "${@:3}"
	printf '%s\n' "$text" >"$2"
}

# _world_fill VARNAME [NAME=VALUE...] - fill the placeholders of the string
# held in VARNAME (see world_render).
_world_fill() {
	local -n _t=$1
	local k kv
	shift
	for k in "${!WORLD_VARS[@]}"; do
		_t=${_t//"@$k@"/"${WORLD_VARS[$k]}"}
	done
	for kv in "$@"; do
		_t=${_t//"@${kv%%=*}@"/"${kv#*=}"}
	done
	if [[ $_t =~ @[A-Z][A-Z0-9_]*@ ]]; then
		world_fail "unfilled placeholder ${BASH_REMATCH[0]}"
	fi
}

# _world_listening PROTO ADDR PORT - true if a socket listens there
# (PROTO t or u).
_world_listening() {
	[[ -n $(ss -Hln"$1" "src $2:$3" 2>/dev/null) ]]
}

# ---------------------------------------------------------------------------
# DKIM keys
# ---------------------------------------------------------------------------

# world_keys_generate - fresh keys for every selector in $W/keys/:
# SELECTOR.rsa.pem (RSA-2048) and SELECTOR.ed25519.pem (PEM, mode 0600,
# owned by the milter user), and the placeholders DKIM_<X>_RSA and
# DKIM_<X>_ED25519 (X = the selector's last letter, upper case: A, B)
# holding the TXT data of their public halves.
world_keys_generate() {
	local sel x pid pids=()
	for sel in $WORLD_SELECTORS; do
		_world_keygen RSA -pkeyopt rsa_keygen_bits:2048 \
			-out "$W/keys/$sel.rsa.pem" &
		pids+=($!)
		_world_keygen ED25519 -out "$W/keys/$sel.ed25519.pem" &
		pids+=($!)
	done
	for pid in "${pids[@]}"; do
		wait "$pid" || world_fail "openssl could not generate the keys"
	done
	for sel in $WORLD_SELECTORS; do
		x=${sel: -1}
		WORLD_VARS[DKIM_${x^^}_RSA]=$(_world_dkim_txt rsa \
			"$W/keys/$sel.rsa.pem")
		WORLD_VARS[DKIM_${x^^}_ED25519]=$(_world_dkim_txt ed25519 \
			"$W/keys/$sel.ed25519.pem")
	done
	chown -R "$WORLD_MILTER_USER:$WORLD_MILTER_GROUP" "$W/keys"
	chmod 0700 "$W/keys"
	chmod 0600 "$W"/keys/*.pem
}

# _world_keygen ALGORITHM OPENSSL-ARGS... - one private key (PEM, 0600).
_world_keygen() {
	(umask 077 &&
		openssl genpkey -quiet -algorithm "$@" 2>>"$W/log/openssl.log")
}

# _world_dkim_txt rsa|ed25519 PEM - the DKIM key record of PEM's public
# half as zone-file TXT data ("v=DKIM1; k=...; p=...", split into
# character-strings of at most 255 bytes).  RSA: p= is the base64
# SubjectPublicKeyInfo; Ed25519: the base64 raw 32-byte key (RFC 8463),
# the last 32 bytes of its SubjectPublicKeyInfo.
_world_dkim_txt() {
	local der
	der=$(openssl pkey -in "$2" -pubout -outform DER | base64 -w0) ||
		world_fail "cannot read key $2"
	[[ $1 == rsa ]] ||
		der=$(base64 -d <<<"$der" | tail -c 32 | base64 -w0)
	_world_txt_strings "v=DKIM1; k=$1; p=$der"
}

# _world_txt_strings TEXT - TEXT as quoted character-strings of <= 255 bytes.
_world_txt_strings() {
	local s=$1 out=""
	while ((${#s} > 255)); do
		out+="\"${s:0:255}\" "
		s=${s:255}
	done
	printf '%s"%s"' "$out" "$s"
}

# ---------------------------------------------------------------------------
# DNS: nsd (authoritative), unbound (recursive), the black hole
# ---------------------------------------------------------------------------

# world_dns_start - keys, zones, nsd, black hole, unbound; returns when
# unbound resolves through the private root.  Zones: every
# WORLD_ZONE_DIRS/*.zone template (later directories override earlier ones
# for the same zone); the root and the TLDs the zones need are generated,
# with delegations.  Each zone in WORLD_BLACKHOLE_ZONES is delegated to
# ns.<zone> at the black hole instead of being served.
world_dns_start() {
	local dir f
	[[ -n ${WORLD_VARS[DKIM_A_RSA]:-} ]] || world_keys_generate
	for dir in $WORLD_ZONE_DIRS; do
		for f in "$dir"/*.zone; do
			[[ -f $f ]] || continue
			cp "$f" "$W/dns/src/"
		done
	done
	_world_dns_sync
	world_render "$WORLD_HOME/nsd.conf.in" "$W/dns/nsd.conf"
	world_render "$WORLD_HOME/unbound.conf.in" "$W/dns/unbound.conf"
	printf '. 3600000 NS ns1.nic.test.\nns1.nic.test. 3600000 A %s\n' \
		"$WORLD_DNS_AUTH" >"$W/dns/root.hints"
	_world_spawn blackhole "$WORLD_PY" "$WORLD_HOME/py/blackhole.py" \
		"$WORLD_DNS_BLACKHOLE" 53
	_world_spawn nsd nsd -d -c "$W/dns/nsd.conf"
	_world_dns_wait_serials "$W"/dns/zones/*.zone
	_world_spawn unbound "$(_world_unbound_bin)" -d -c "$W/dns/unbound.conf"
	world_wait "$WORLD_WAIT" _world_unbound_ready ||
		world_fail "unbound does not resolve through the private root"
	world_wait "$WORLD_WAIT" _world_listening u "$WORLD_DNS_BLACKHOLE" 53 ||
		world_fail "the DNS black hole did not start"
}

# _world_unbound_bin - the unbound to run.  Debian's unbound package ships
# an AppArmor profile for /usr/sbin/unbound that forbids reading a
# configuration under $W; where it is enforced, a copy of the binary in
# $W/bin (no profile attaches to that path) runs instead.
_world_unbound_bin() {
	if ! grep -qs '^unbound (enforce)' /sys/kernel/security/apparmor/profiles
	then
		echo /usr/sbin/unbound
		return
	fi
	mkdir -p "$W/bin"
	cp /usr/sbin/unbound "$W/bin/unbound"
	echo "$W/bin/unbound"
}

# _world_unbound_ready - true once unbound answers "test. SOA" (NOERROR),
# i.e. it listens, reaches nsd and iterates from the root.
_world_unbound_ready() {
	_world_listening u "$WORLD_DNS_RESOLVER" 53 || return 1
	world_dns_query test SOA | grep -x 'STATUS NOERROR' >/dev/null
}

# world_dns_query [dnsq.py options] NAME TYPE - ask the world's resolver;
# prints "STATUS <status>" and "<TYPE> <owner> <rdata>" lines (py/dnsq.py).
world_dns_query() {
	"$WORLD_PY" "$WORLD_HOME/py/dnsq.py" "$@"
}

# world_dns_flush - empty unbound's caches (records, negative answers and
# what it knows of servers), so the next question goes to nsd again.
world_dns_flush() {
	local cmd
	for cmd in "flush_zone ." "flush_infra all" "flush_requestlist"; do
		# shellcheck disable=SC2086  # cmd is the command and its argument
		unbound-control -c "$W/dns/unbound.conf" $cmd >/dev/null ||
			world_fail "unbound-control $cmd failed"
	done
}

# world_zone_set ZONE FILE - serve FILE (a zone template, see
# zones/good.test.zone) as ZONE from now on: a new zone is added (with its
# delegation), an existing one replaced.  Returns when nsd serves it and
# unbound's cache is flushed: "the customer fixed DNS".
world_zone_set() {
	cp "$2" "$W/dns/src/$1.zone"
	_world_dns_sync "$1"
	world_dns_flush
}

# world_zone_remove ZONE - stop serving ZONE and remove its delegation: its
# names become NXDOMAIN.  Returns when nsd and unbound agree.
world_zone_remove() {
	rm -f "$W/dns/src/$1.zone"
	_world_dns_sync
	world_dns_flush
}

# _world_dns_hosted - every zone nsd must serve, one per line: ".", the
# TLDs of all zones (served and black-holed), the zones of $W/dns/src.
_world_dns_hosted() {
	local f z
	{
		echo .
		for f in "$W"/dns/src/*.zone; do
			[[ -f $f ]] || continue
			z=${f##*/}
			z=${z%.zone}
			echo "$z"
			echo "${z##*.}"
		done
		for z in $WORLD_BLACKHOLE_ZONES; do
			echo "${z##*.}"
		done
	} | sort -u
}

# _world_dns_parent ZONE HOSTED... - the closest enclosing hosted zone.
_world_dns_parent() {
	local z=$1 h
	shift
	while [[ $z == *.* ]]; do
		z=${z#*.}
		for h in "$@"; do
			[[ $h != "$z" ]] || { echo "$z"; return; }
		done
	done
	echo .
}

# _world_dns_sync [CHANGED...] - bring nsd in line with $W/dns/src: write
# the zone files of CHANGED zones, of added zones and of the parents whose
# delegations changed; add/delete zones in a running nsd; return when nsd
# serves every written zone's new serial.  Without nsd running (first
# call), write every zone and the zone list.
_world_dns_sync() {
	local -a now old add del write
	local z running=0
	mapfile -t now < <(_world_dns_hosted)
	[[ -f $W/dns/hosted ]] && mapfile -t old <"$W/dns/hosted"
	[[ -n $(_world_pid nsd) ]] && running=1
	mapfile -t add < <(comm -23 <(printf '%s\n' "${now[@]}") \
		<(printf '%s\n' "${old[@]}"))
	mapfile -t del < <(comm -13 <(printf '%s\n' "${now[@]}") \
		<(printf '%s\n' "${old[@]}"))
	write=("$@" "${add[@]}")
	for z in "$@" "${add[@]}" "${del[@]}"; do
		write+=("$(_world_dns_parent "$z" "${now[@]}")")
	done
	mapfile -t write < <(printf '%s\n' "${write[@]}" | sort -u |
		grep -Fxf <(printf '%s\n' "${now[@]}"))
	for z in "${write[@]}"; do
		_world_zone_write "$z" "${now[@]}"
	done
	printf '%s\n' "${now[@]}" >"$W/dns/hosted"
	if ((running == 0)); then
		_world_dns_zonelist "${now[@]}"
		return
	fi
	_world_nsd_apply add del write
}

# _world_nsd_apply ADDVAR DELVAR WRITEVAR - tell the running nsd about the
# changes (names of arrays), then wait until it serves the written zones.
_world_nsd_apply() {
	local -n _add=$1 _del=$2 _write=$3
	local z files=()
	for z in "${_del[@]}"; do
		_world_nsd_control delzone "$z"
	done
	for z in "${_write[@]}"; do
		if printf '%s\n' "${_add[@]}" | grep -qxF -- "$z"; then
			_world_nsd_control addzone "$z" world
		else
			_world_nsd_control reload "$z"
		fi
		files+=("$W/dns/zones/$(_world_zone_file "$z")")
	done
	_world_dns_wait_serials "${files[@]}"
}

# _world_nsd_control ARGS... - nsd-control on the world's nsd, or fail.
_world_nsd_control() {
	nsd-control -c "$W/dns/nsd.conf" "$@" >>"$W/log/nsd-control.log" 2>&1 ||
		world_fail "nsd-control $* failed (see log/nsd-control.log)"
}

# _world_dns_zonelist ZONE... - nsd's zone list (every zone but the root,
# which nsd.conf names), written before nsd starts.
_world_dns_zonelist() {
	local z
	{
		printf '# NSD zone list\n# name pattern\n'
		for z in "$@"; do
			[[ $z == . ]] || printf 'add %s world\n' "$z"
		done
	} >"$W/dns/zone.list"
}

# _world_zone_file ZONE - the zone file's name in $W/dns/zones/.
_world_zone_file() {
	if [[ $1 == . ]]; then echo root.zone; else echo "$1.zone"; fi
}

# _world_zone_serial - the next SOA serial: the current time, or one more
# than the last if that was not earlier.  Strictly increasing, so each
# written zone file gets a new serial and a new mtime (nsd reloads what
# changed by mtime; serials let the world see when it has).
_world_zone_serial() {
	local last=0 next=$EPOCHSECONDS
	[[ -f $W/dns/serial ]] && last=$(<"$W/dns/serial")
	((next > last)) || next=$((last + 1))
	echo "$next" >"$W/dns/serial"
	echo "$next"
}

# _world_zone_write ZONE HOSTED... - write ZONE's file: $ORIGIN, SOA, NS,
# glue for ns1.nic.test in the root, the template's records (placeholders
# filled), delegations of its hosted and black-holed children.
# shellcheck disable=SC2016  # $ORIGIN and $TTL are zone-file directives
_world_zone_write() {
	local z=$1 serial origin text="" file
	shift
	serial=$(_world_zone_serial)
	origin="${z%.}."
	[[ $z != . ]] || origin=.
	file="$W/dns/zones/$(_world_zone_file "$z")"
	[[ ! -f $W/dns/src/$z.zone ]] || text=$(<"$W/dns/src/$z.zone")
	_world_fill text
	{
		printf '$ORIGIN %s\n$TTL 300\n' "$origin"
		printf '@ SOA ns1.nic.test. hostmaster.nic.test. %s 3600 600 86400 300\n' \
			"$serial"
		printf '@ NS ns1.nic.test.\n'
		[[ $z != . && $z != test ]] ||
			printf 'ns1.nic.test. A %s\n' "$WORLD_DNS_AUTH"
		printf '%s\n' "$text"
		printf '$ORIGIN %s\n' "$origin"
		_world_zone_delegations "$z" "$@"
	} >"$file"
	touch -d "@$serial" "$file"
}

# _world_zone_delegations ZONE HOSTED... - NS records (and glue for black
# holes) for the children of ZONE.
_world_zone_delegations() {
	local z=$1 c
	shift
	for c in "$@"; do
		[[ $c != . && $c != "$z" ]] || continue
		[[ $(_world_dns_parent "$c" "$@") == "$z" ]] || continue
		printf '%s. NS ns1.nic.test.\n' "$c"
	done
	for c in $WORLD_BLACKHOLE_ZONES; do
		[[ $(_world_dns_parent "$c" "$@") == "$z" ]] || continue
		printf '%s. NS ns.%s.\nns.%s. A %s\n' "$c" "$c" "$c" \
			"$WORLD_DNS_BLACKHOLE"
	done
}

# _world_dns_wait_serials FILE... - wait until nsd serves, for each zone
# file, the SOA serial written in it.
_world_dns_wait_serials() {
	local f z args=()
	for f in "$@"; do
		z=${f##*/}
		z=${z%.zone}
		[[ $z != root ]] || z=.
		args+=("$z=$(awk '$2 == "SOA" { print $5; exit }' "$f")")
	done
	"$WORLD_PY" "$WORLD_HOME/py/dnswait.py" "$WORLD_DNS_AUTH" \
		"$WORLD_WAIT" "${args[@]}" ||
		world_fail "nsd does not serve the new zone data (log/nsd.log)"
}

# ---------------------------------------------------------------------------
# smtp-sink: where the relay delivers
# ---------------------------------------------------------------------------

# world_sink_start - smtp-sink on WORLD_SINK_ADDR:WORLD_SINK_PORT, one file
# per message in $W/sink/.  With "-d $W/sink/%Y%m%d-%H%M%S." every mail
# transaction is dumped to its own file, named by strftime plus a random
# hex suffix (e.g. 20250101-120000.809a62e3).  A dump holds, in order:
# "X-Client-Addr:", "X-Client-Proto:", "X-Helo-Args:", "X-Mail-Args:" and
# one "X-Rcpt-Args:" line per recipient, a three-line "Received: ...
# (smtp-sink) ..." header, the message exactly as received, and one empty
# line (man smtp-sink, DUMP FILE FORMAT; py/sinkmsg.py takes it apart).
# The file is open while the transaction runs: world_sink_files lists only
# the closed ones.
world_sink_start() {
	chown postfix "$W/sink"
	_world_spawn sink smtp-sink -u postfix -h sink.world.test \
		-d "$W/sink/%Y%m%d-%H%M%S." \
		"$WORLD_SINK_ADDR:$WORLD_SINK_PORT" 64
	world_wait "$WORLD_WAIT" _world_listening t "$WORLD_SINK_ADDR" \
		"$WORLD_SINK_PORT" || world_fail "smtp-sink did not start"
}

# world_sink_files - the complete message files of the sink, oldest first.
world_sink_files() {
	local pid
	pid=$(_world_pid sink) || return 0
	find "$W/sink" -type f -printf '%T@ %p\n' | sort -n | cut -d' ' -f2- |
		grep -vxFf <(find "/proc/$pid/fd" -type l -printf '%l\n' \
			2>/dev/null; echo /dev/null) || true
}

# world_sink_count - how many complete messages the sink holds.
world_sink_count() {
	world_sink_files | grep -c . || true
}

# world_sink_wait N [SECONDS] - wait until the sink holds at least N
# complete messages; fails the test on timeout.
world_sink_wait() {
	world_wait "${2:-$WORLD_WAIT}" _world_sink_has "$1" ||
		world_fail "sink: expected $1 messages within ${2:-$WORLD_WAIT} s," \
			"have $(world_sink_count)"
}

# _world_sink_has N - true if the sink holds at least N complete messages.
_world_sink_has() {
	(($(world_sink_count) >= $1))
}

# world_sink_newest - the path of the newest complete message (fails the
# test if there is none).
world_sink_newest() {
	local f
	f=$(world_sink_files | tail -n 1)
	[[ -n $f ]] || world_fail "sink: no message"
	echo "$f"
}

# world_sink_find TOKEN - the path of the message carrying TOKEN (see
# world_smtp_send), empty if none.
world_sink_find() {
	local f files
	mapfile -t files < <(world_sink_files)
	for f in "${files[@]}"; do
		! grep -qF -- "$1" "$f" || { echo "$f"; return 0; }
	done
}

# world_sink_message FILE [--headers|--body|--envelope] - the message (or a
# part of it) as the relay delivered it, without the sink's additions.
world_sink_message() {
	"$WORLD_PY" "$WORLD_HOME/py/sinkmsg.py" "${@:2}" "$1"
}

# ---------------------------------------------------------------------------
# Postfix: the relay and the outbox
# ---------------------------------------------------------------------------

# world_postfix_start relay|outbox - create the instance's configuration in
# $W/<instance>/ and its queue and data directories in $W/spool/<instance>/
# (first call only), and start it.  The relay's smtpd_milters is
# WORLD_RELAY_MILTERS, by default relaygate's socket
# ("unix:$W/run/relaygate.sock"); set it to "" for no milter.
world_postfix_start() {
	local pf=$1
	[[ -f $W/$pf/main.cf ]] || _world_postfix_create "$pf"
	_world_postfix_cmd "$pf" start
	[[ $pf != relay ]] ||
		world_wait "$WORLD_WAIT" _world_listening t "$WORLD_RELAY_ADDR" 25 ||
		world_fail "the relay's smtpd does not listen on port 25"
}

# _world_postfix_create relay|outbox - directories, main.cf, master.cf.
_world_postfix_create() {
	local pf=$1 dir="$W/$1" spool="$W/spool/$1"
	local smtpd="# no SMTP listener"
	mkdir -p "$dir" "$spool/queue" "$spool/data"
	chown root:root "$spool/queue"
	chown postfix:postfix "$spool/data"
	[[ $pf != relay ]] ||
		smtpd="smtp      inet  n       -       n       -       -       smtpd"
	cat "$WORLD_HOME/postfix/main-common.cf.in" \
		"$WORLD_HOME/postfix/$pf.cf.in" >"$W/tmp/$pf-main.cf.in"
	world_render "$W/tmp/$pf-main.cf.in" "$dir/main.cf" PF="$pf" \
		MILTERS="${WORLD_RELAY_MILTERS-unix:$WORLD_MILTER_SOCKET}"
	world_render "$WORLD_HOME/postfix/master.cf.in" "$dir/master.cf" \
		SMTPD="$smtpd"
	_world_backdate "$dir/main.cf" "$dir/master.cf"
}

# _world_backdate FILE... - set mtimes 10 s into the past: Postfix waits
# until main.cf is 2 s old before it trusts it (test-world.md section 6).
_world_backdate() {
	touch -d "@$((EPOCHSECONDS - 10))" "$@"
}

# _world_postfix_cmd relay|outbox ARGS... - "postfix -c DIR ARGS", or fail
# the test showing why: Postfix's early errors go only to syslog (our
# $W/log/syslog) or a tty, hence the "script" run of "postfix check".
_world_postfix_cmd() {
	local pf=$1
	shift
	postfix -c "$W/$pf" "$@" >>"$W/log/$pf.postfix.log" 2>&1 && return 0
	script -qec "postfix -c $W/$pf check" /dev/null \
		>>"$W/log/$pf.postfix.log" 2>&1 || true
	world_fail "postfix -c \$W/$pf $* failed:" \
		"$(tail -n 5 "$W/log/$pf.postfix.log" "$W/log/syslog" 2>/dev/null)"
}

# _world_postfix_master relay|outbox - the PID of the instance's master,
# empty if it does not run.
_world_postfix_master() {
	local pid
	pid=$(tr -d ' ' 2>/dev/null <"$W/spool/$1/queue/pid/master.pid") || true
	[[ -n $pid ]] && ! _world_gone "$pid" && echo "$pid"
	return 0
}

# world_postfix_stop relay|outbox - stop the instance and wait (bounded)
# until its master is gone; fails the test if it does not stop.
world_postfix_stop() {
	_world_postfix_stop "$1" ||
		world_fail "postfix $1 did not stop within $WORLD_WAIT s"
}

# _world_postfix_stop relay|outbox - "postfix stop" (SIGTERM to the master
# if that fails), wait until the master is gone; if it is not, KILL it and
# return non-zero.  Does nothing if the instance does not run.
_world_postfix_stop() {
	local pid
	pid=$(_world_postfix_master "$1")
	[[ -n $pid ]] || return 0
	postfix -c "$W/$1" stop >>"$W/log/$1.postfix.log" 2>&1 ||
		kill -TERM "$pid" 2>/dev/null || true
	_world_wait_gone "$pid" "$WORLD_WAIT" && return 0
	kill -KILL "$pid" 2>/dev/null || true
	return 1
}

# world_postconf relay|outbox "name = value"... - change the instance's
# main.cf (postconf -e) and backdate it; a running instance is reloaded.
world_postconf() {
	local pf=$1
	shift
	postconf -c "$W/$pf" -e "$@" >>"$W/log/$pf.postfix.log" 2>&1 ||
		world_fail "postconf -c \$W/$pf -e $* failed"
	_world_backdate "$W/$pf/main.cf"
	[[ -z $(_world_postfix_master "$pf") ]] || world_postfix_reload "$pf"
}

# world_postfix_reload relay|outbox - "postfix reload", returning once the
# master logged the reload.  Measured: the next SMTP connection is then
# served by a new smtpd with the new settings (30 of 30 tries).
world_postfix_reload() {
	local n
	n=$(_world_log_count "$W/log/$1.maillog" 'master.*: reload -- ')
	_world_postfix_cmd "$1" reload
	world_wait "$WORLD_WAIT" _world_log_more "$W/log/$1.maillog" \
		'master.*: reload -- ' "$n" ||
		world_fail "postfix $1: reload not logged"
}

# world_relay_milters VALUE - set the relay's smtpd_milters ("" for none,
# "unix:$WORLD_MILTER_SOCKET" for relaygate) and reload it if it runs.
world_relay_milters() {
	world_postconf relay "smtpd_milters = $1"
}

# _world_log_count FILE ERE - number of lines of FILE matching ERE (0 if
# FILE does not exist yet).
_world_log_count() {
	local n
	n=$(grep -cE -- "$2" "$1" 2>/dev/null) || true
	echo "${n:-0}"
}

# _world_log_more FILE ERE N - true if more than N lines match.
_world_log_more() {
	(($(_world_log_count "$1" "$2") > $3))
}

# world_maillog relay|outbox - the instance's log file name.
world_maillog() {
	echo "$W/log/$1.maillog"
}

# world_log_wait FILE ERE [SECONDS] - wait until a line of FILE matches ERE
# (e.g. a relaygate log event); fails the test on timeout.
world_log_wait() {
	world_wait "${3:-$WORLD_WAIT}" _world_log_more "$1" "$2" 0 ||
		world_fail "no line matching '$2' in ${1#"$W"/} within" \
			"${3:-$WORLD_WAIT} s"
}

# world_queue_count relay|outbox [QUEUE] - messages in the instance's queue
# (postqueue -j), or only in QUEUE (incoming, active, deferred, hold).
world_queue_count() {
	postqueue -c "$W/$1" -j 2>>"$W/log/$1.postfix.log" |
		grep -cE "\"queue_name\": *\"${2:-[a-z]+}\"" || true
}

# world_queue_wait relay|outbox QUEUE N [SECONDS] - wait until QUEUE ("" for
# the whole queue) holds exactly N messages; fails the test on timeout.
world_queue_wait() {
	world_wait "${4:-$WORLD_WAIT}" _world_queue_is "$1" "$2" "$3" ||
		world_fail "$1 queue ${2:-(all)}: expected $3 messages within" \
			"${4:-$WORLD_WAIT} s, have $(world_queue_count "$1" "$2")"
}

# _world_queue_is PF QUEUE N - true if QUEUE of PF holds exactly N messages.
_world_queue_is() {
	(($(world_queue_count "$1" "$2") == $3))
}

# world_outbox_send [smtpsend.py options] - submit a message at the outbox
# (sendmail -C $W/outbox); sets WORLD_TOKEN.  Fails the test if sendmail
# fails.  The outbox then relays it to the relay at once.
world_outbox_send() {
	local out="$W/tmp/outbox-send.txt"
	"$WORLD_PY" "$WORLD_HOME/py/smtpsend.py" --sendmail "$W/outbox" "$@" \
		>"$out" 2>&1 || world_fail "outbox submission failed: $(<"$out")"
	WORLD_TOKEN=$(awk '$1 == "TOKEN" { print $2 }' "$out")
}

# world_outbox_flush - retry every message in the outbox queue now
# (postqueue -f); it never retries on its own during a test.
world_outbox_flush() {
	postqueue -c "$W/outbox" -f >>"$W/log/outbox.postfix.log" 2>&1 ||
		world_fail "postqueue -f on the outbox failed"
}

# ---------------------------------------------------------------------------
# SMTP straight to the relay
# ---------------------------------------------------------------------------

# world_smtp_send [smtpsend.py options] - one SMTP session to the relay
# (127.0.0.1:25 unless --host/--port), every reply recorded.  Never fails by
# itself: sets WORLD_SMTP (the transcript file, format in py/smtpsend.py),
# WORLD_TOKEN and WORLD_SMTP_RC (0 accepted, 1 refused, 2 error); check the
# outcome with world_smtp_code / assert_smtp.
world_smtp_send() {
	WORLD_SMTP_N=$((${WORLD_SMTP_N:-0} + 1))
	WORLD_SMTP="$W/tmp/smtp-$WORLD_SMTP_N.txt"
	WORLD_SMTP_RC=0
	"$WORLD_PY" "$WORLD_HOME/py/smtpsend.py" --host "$WORLD_RELAY_ADDR" \
		"$@" >"$WORLD_SMTP" 2>&1 || WORLD_SMTP_RC=$?
	WORLD_TOKEN=$(awk '$1 == "TOKEN" { print $2 }' "$WORLD_SMTP")
}

# world_smtp_code STEP - the reply code of STEP (CONNECT, EHLO, MAIL, RCPT,
# DATA, DOT) in the last session, empty if it was not reached; for RESULT
# the outcome: accepted, refused or error.
world_smtp_code() {
	awk -v s="$1" '$1 == s { print $2; exit }' "$WORLD_SMTP"
}

# ---------------------------------------------------------------------------
# relaygate
# ---------------------------------------------------------------------------

# _world_relaygate_bin - the daemon to test: RELAYGATE_BIN, else the newest
# build/*/milter/relaygate of the repository.
_world_relaygate_bin() {
	local bin=${RELAYGATE_BIN:-}
	[[ -n $bin ]] || bin=$(find "$WORLD_REPO"/build/*/milter \
		-maxdepth 1 -name relaygate -type f -printf '%T@ %p\n' \
		2>/dev/null | sort -n | tail -n 1 | cut -d' ' -f2-)
	[[ -n $bin && -x $bin ]] || return 1
	echo "$bin"
}

# world_relaygate_start [CONF] - render CONF (default
# tests/world/relaygate-test.conf; @W@ and the other placeholders filled)
# to $W/relaygate.conf and run "$RELAYGATE_BIN -f -c $W/relaygate.conf" in
# the background, output to $W/log/relaygate.log.  CONF "-" runs
# "$RELAYGATE_BIN -f" with its compiled-in configuration file instead (see
# world_install_relaygate).  Returns once the milter socket
# ($WORLD_MILTER_SOCKET) listens; fails the test at once if relaygate
# exits, or after WORLD_WAIT s.  Sets WORLD_RELAYGATE_PID.
world_relaygate_start() {
	local bin conf=${1:-$WORLD_HOME/relaygate-test.conf} args
	bin=$(_world_relaygate_bin) ||
		world_fail "no relaygate binary: set RELAYGATE_BIN"
	[[ -z $(_world_pid relaygate) ]] ||
		world_fail "relaygate already runs; world_relaygate_stop first"
	args=(-f)
	if [[ $conf != - ]]; then
		world_render "$conf" "$W/relaygate.conf"
		chmod 0644 "$W/relaygate.conf"
		args+=(-c "$W/relaygate.conf")
	fi
	_world_spawn relaygate "$bin" "${args[@]}"
	WORLD_RELAYGATE_PID=$WORLD_PID
	local rc=0
	world_wait "$WORLD_WAIT" _world_relaygate_ready || rc=$?
	((rc == 0)) && return 0
	((rc == 2)) || world_fail "relaygate's socket does not listen after" \
		"$WORLD_WAIT s: $(tail -n 5 "$W/log/relaygate.log")"
	rc=0
	_world_stop relaygate 0 || rc=$?
	world_fail "relaygate exited at start (status $rc):" \
		"$(tail -n 5 "$W/log/relaygate.log")"
}

# _world_relaygate_ready - 0 once the milter socket listens, 2 if relaygate
# is gone (hopeless), else 1.  WORLD_MILTER_SOCKET is a unix socket's path,
# or ADDR:PORT when relaygate listens on an inet socket.
_world_relaygate_ready() {
	_world_gone "$WORLD_RELAYGATE_PID" && return 2
	if [[ $WORLD_MILTER_SOCKET == /* ]]; then
		[[ -n $(ss -Hlx "src $WORLD_MILTER_SOCKET" 2>/dev/null) ]]
	else
		_world_listening t "${WORLD_MILTER_SOCKET%:*}" \
			"${WORLD_MILTER_SOCKET##*:}"
	fi
}

# world_install_relaygate - install relaygate inside the world the way a
# package would, without touching the host: /etc and /run become private
# overlays of the host's (writes land in $W), a "relaygate" system user and
# group are added, conf/relaygate.conf is installed unchanged as
# /etc/relaygate/relaygate.conf and the world's RSA keys (call after
# world_dns_start) as /etc/relaygate/keys/<selector>.pem, owned by
# relaygate, mode 0600.  The relay Postfix is pointed at the shipped
# default socket.  For the demo and tests of the shipped configuration.
world_install_relaygate() {
	local top sel
	for top in etc run; do
		mkdir -p "$W/overlay/$top/upper" "$W/overlay/$top/work"
		mount -t overlay "world-$top" -o "lowerdir=/$top,upperdir=$W/overlay/$top/upper,workdir=$W/overlay/$top/work" "/$top" ||
			world_fail "cannot mount a private overlay on /$top"
	done
	# The overlay hides the world's resolv.conf bind mount; restore it.
	cp "$W/etc/resolv.conf" /etc/resolv.conf
	getent group relaygate >/dev/null || groupadd --system relaygate
	getent passwd relaygate >/dev/null || useradd --system \
		--gid relaygate --no-create-home --home-dir /nonexistent \
		--shell /usr/sbin/nologin relaygate
	install -d -m 0755 /etc/relaygate
	install -d -m 0700 -o relaygate -g relaygate /etc/relaygate/keys
	install -m 0644 "$WORLD_REPO/conf/relaygate.conf" /etc/relaygate/
	for sel in $WORLD_SELECTORS; do
		install -m 0600 -o relaygate -g relaygate \
			"$W/keys/$sel.rsa.pem" "/etc/relaygate/keys/$sel.pem"
	done
	install -d -m 0750 -o relaygate -g postfix /run/relaygate
	WORLD_MILTER_SOCKET=/run/relaygate/relaygate.sock
	WORLD_RELAY_MILTERS="unix:$WORLD_MILTER_SOCKET"
}

# world_relaygate_signal SIG - send SIG (USR1, TERM, ...) to relaygate.
world_relaygate_signal() {
	local pid
	pid=$(_world_pid relaygate) || world_fail "relaygate does not run"
	kill -s "$1" "$pid" || world_fail "cannot signal relaygate ($pid)"
}

# world_relaygate_stop [SECONDS] - SIGTERM, then wait until the process is
# gone (default 20 s: drain_timeout of the test configuration plus the
# seconds libmilter takes, test-world.md section 14).  Fails the test if it
# must be killed.  Sets WORLD_RELAYGATE_STATUS (its exit status, 128+N if
# signal N ended it).
world_relaygate_stop() {
	local secs=${1:-20}
	[[ -n $(_world_pid relaygate) ]] || world_fail "relaygate does not run"
	WORLD_RELAYGATE_STATUS=0
	_world_stop relaygate "$secs" || WORLD_RELAYGATE_STATUS=$?
	((_WORLD_KILLED == 0)) ||
		world_fail "relaygate did not exit within $secs s of SIGTERM"
}

# ---------------------------------------------------------------------------
# Assertions: each prints what was expected and what was found, and fails
# the test (exit 1; the EXIT trap dumps the logs).
# ---------------------------------------------------------------------------

# assert_eq EXPECTED ACTUAL WHAT - ACTUAL must equal EXPECTED.
assert_eq() {
	[[ $2 == "$1" ]] || world_fail "$3: expected '$1', got '$2'"
}

# assert_grep FILE ERE [WHAT] - some line of FILE must match ERE.
assert_grep() {
	grep -qE -- "$2" "$1" 2>/dev/null ||
		world_fail "${3:-${1#"$W"/}}: no line matches '$2'"
}

# assert_no_grep FILE ERE [WHAT] - no line of FILE may match ERE.
assert_no_grep() {
	! grep -qE -- "$2" "$1" 2>/dev/null ||
		world_fail "${3:-${1#"$W"/}}: unexpected line matching '$2':" \
			"$(grep -m1 -E -- "$2" "$1")"
}

# assert_smtp STEP GLOB - the last session's STEP reply code (or RESULT
# outcome) must match GLOB, e.g. assert_smtp MAIL '4??'.
assert_smtp() {
	local code
	code=$(world_smtp_code "$1")
	# shellcheck disable=SC2053  # $2 is a glob on purpose
	[[ $code == $2 ]] || world_fail "SMTP $1: expected $2, got" \
		"'${code:-(not reached)}'; session: $(tr '\n' '/' <"$WORLD_SMTP")"
}

# assert_sink_count N - the sink must hold exactly N complete messages.
assert_sink_count() {
	assert_eq "$1" "$(world_sink_count)" "messages in the sink"
}

# assert_queue relay|outbox QUEUE N - QUEUE ("" = all) must hold N messages.
assert_queue() {
	assert_eq "$3" "$(world_queue_count "$1" "$2")" \
		"messages in the $1 queue ${2:-(all)}"
}
