#!/usr/bin/env bash
# tests/xen/run-scenarios.sh - `make check`'s entry to the real-Xen
# scenarios (tests/xen/harness.sh): every scenario, one after the other,
# each in its own boot of Xen under qemu (TCG).
#
# Skips (77, with the reason) when not root, when qemu-system-x86_64 is
# missing, when the xen provider is not built, when SPLITDRV_XEN_TESTS=0,
# or in a sanitizer build (./dev test --asan; see doc/xen-harness.md).
# Otherwise exits with the harness's verdict (0 pass, 1 fail, 2 error -> 99).
set -euo pipefail

skip() { echo "SKIP: $*"; exit 77; }

[ "${SPLITDRV_XEN_TESTS:-1}" != 0 ] || skip "SPLITDRV_XEN_TESTS=0"
[ "${SPLITDRV_SANITIZERS:-0}" != 1 ] ||
	skip "ASan+UBSan build: the real-Xen scenarios run from the plain build (./dev test); their 768 MiB TCG dom0 is not sized for sanitized daemons"
[ "$(id -u)" -eq 0 ] || skip "the real-Xen scenarios need root (apt-get download, qemu)"
command -v qemu-system-x86_64 >/dev/null ||
	skip "qemu-system-x86_64 not found (Debian package qemu-system-x86)"
b=${top_builddir:?top_builddir not set (run through make check)}
s=${top_srcdir:?top_srcdir not set (run through make check)}
# make distcheck checks the tarball; the scenarios run in ./dev test.
case $b in
*/_build/sub*) skip "inside make distcheck (run ./dev test-xen for the real-Xen scenarios)" ;;
esac
[ -x "$b/tests/xen/hvcheck" ] ||
	skip "the xen provider is not built (configure --with-xen=yes needs Debian's libxen-dev)"

rc=0
bash "$s/tests/xen/harness.sh" --builddir "$b" || rc=$?
case $rc in
0|1) exit $rc ;;
*) exit 99 ;;
esac
