# checks.sh - the "ok"/"FAIL" lines of the standalone test scripts
# (tests/cli, tests/pkg) and their verdict.  Source it, call ok TEXT or
# fail TEXT once per check, and checks_done at the end.
# shellcheck shell=bash

fails=0

# fail TEXT - a check failed; the script goes on to the next one
fail() {
	echo "FAIL $*"
	fails=$((fails + 1))
}

# ok TEXT - a check passed
ok() {
	echo "ok   $*"
}

# checks_done - exit 1, saying how many, if any check failed
checks_done() {
	((fails == 0)) || {
		echo "$fails check(s) failed"
		exit 1
	}
}
