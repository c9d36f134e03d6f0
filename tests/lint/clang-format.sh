#!/bin/sh
# clang-format.sh SRCDIR - every C file is formatted per .clang-format.
set -eu
cd "$1"
bad=0
for f in $(git ls-files '*.c' '*.h' 2>/dev/null || find milter tests -name '*.[ch]'); do
	[ -f "$f" ] || continue
	if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
		echo "not formatted: $f (run clang-format -i $f)"
		bad=1
	fi
done
exit $bad
