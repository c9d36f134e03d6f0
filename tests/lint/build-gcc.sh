#!/bin/sh
# build-gcc.sh SRCDIR BUILDDIR - the product builds warning-free with gcc
# as well (the test build uses clang), with -Werror.
set -eu
cmake -S "$1" -B "$2" -DCMAKE_C_COMPILER=gcc -DRELAYGATE_WERROR=ON \
	-DRELAYGATE_TESTS=OFF >"$2.log" 2>&1 || { cat "$2.log"; exit 1; }
cmake --build "$2" -j 2 >>"$2.log" 2>&1 || { tail -60 "$2.log"; exit 1; }
echo "gcc build OK"
