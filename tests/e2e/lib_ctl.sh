# lib_ctl.sh - running relaygatectl in an e2e test (a bash library, sourced
# after world.sh by the scripts that test relaygatectl's commands).
#
# Interface: CTL (the binary, set by ctl_init), ctl NAME ARGS... (one run,
# output in $W/tmp/NAME.out and .err, exit status in CTL_RC, paths in
# CTL_OUT and CTL_ERR; CONF, when set, replaces the world's
# configuration), assert_rc WANT WHAT.
# shellcheck shell=bash

# ctl_bin - the relaygatectl to test: RELAYGATECTL_BIN; else the one next
# to RELAYGATE_BIN; else the newest build/*/milter/relaygatectl.
ctl_bin() {
	local bin=${RELAYGATECTL_BIN:-}
	[[ -n $bin || -z ${RELAYGATE_BIN:-} ]] ||
		bin="$(dirname "$RELAYGATE_BIN")/relaygatectl"
	[[ -n $bin ]] || bin=$(find "$WORLD_REPO"/build/*/milter \
		-maxdepth 1 -name relaygatectl -type f -printf '%T@ %p\n' \
		2>/dev/null | sort -n | tail -n 1 | cut -d' ' -f2-)
	[[ -n $bin && -x $bin ]] ||
		world_fail "no relaygatectl binary: set RELAYGATECTL_BIN"
	echo "$bin"
}

# ctl_init - find the binary (call in the test stage, before ctl).
ctl_init() {
	CTL=$(ctl_bin)
}

# ctl NAME ARGS... - relaygatectl with CONF (default the world's
# $W/relaygate.conf).
ctl() {
	local name=$1
	shift
	CTL_RC=0
	"$CTL" -c "${CONF:-$W/relaygate.conf}" "$@" >"$W/tmp/$name.out" \
		2>"$W/tmp/$name.err" || CTL_RC=$?
	CTL_OUT="$W/tmp/$name.out" CTL_ERR="$W/tmp/$name.err"
}

# assert_rc WANT WHAT - the last ctl's exit status.
assert_rc() {
	[[ $CTL_RC == "$1" ]] || world_fail "$2: exit status $CTL_RC," \
		"expected $1; output: $(head -c 3000 "$CTL_OUT" "$CTL_ERR")"
}
