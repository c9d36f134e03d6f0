#!/bin/sh
# run.sh - the README's test command: install what is needed, build every
# flavour, run every test.  Run as root on Debian 12 (it installs Debian
# packages, and the end-to-end tests build private network namespaces).
# The last lines printed are ctest's summary.
set -eu
cd "$(dirname "$0")/.."

./contrib/install-deps.sh

# clang for everything: the libFuzzer harnesses live in the same tree.
# The sanitizer flavours build the unit suites; a gcc build is a test of
# its own (tests/lint/build-gcc.sh).
mkdir -p build
cmake -S . -B build/test -DCMAKE_C_COMPILER=clang \
	-DCMAKE_BUILD_TYPE=RelWithDebInfo -DRELAYGATE_WERROR=ON \
	-DRELAYGATE_SANITIZE=ON -DRELAYGATE_FUZZ=ON >build/cmake-test.log 2>&1 ||
	{ cat build/cmake-test.log; exit 1; }
cmake --build build/test -j "$(nproc)"

cd build/test
exec ctest --output-on-failure -j "$(nproc)"
