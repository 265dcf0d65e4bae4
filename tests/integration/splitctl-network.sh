#!/bin/sh
# splitctl-network.sh - splitctl network-attach/-detach/-list write and
# remove libxl's vif nodes, checked with Debian's xenstore-utils against
# our xenstored. No netback runs here: the nodes are checked after
# `--no-wait` attaches; the wait is checked on its timeout path (--wait 1,
# nobody takes the device) and against a stand-in backend, a shell loop
# that writes what a backend writes (an error; or InitWait, Connected and,
# on online=0, Closed). The attach against the real netback is tested
# with netback's own tests.
set -u
. "$top_srcdir/tests/integration/xenstored-common.sh"
command -v xenstore-read >/dev/null || skip "xenstore-utils not installed"
SPLITCTL="$top_builddir/tools/splitctl --hv loop --run-dir $D"
FAKE_PID=
trap '[ -n "$FAKE_PID" ] && kill "$FAKE_PID" 2>/dev/null; xsd_cleanup' EXIT

xsd_start
xenstore-write /local/domain/5/domid 5 || fail "setup"
BE=/local/domain/0/backend/vif/5
FE=/local/domain/5/device/vif

# is PATH VALUE - the node holds VALUE
is() {
	_v=$(xenstore-read "$1" 2>/dev/null) || fail "$1 missing"
	[ "$_v" = "$2" ] || fail "$1 is '$_v', not '$2'"
}
gone() {
	for _n in "$@"; do
		xenstore-exists "$_n" 2>/dev/null && fail "$_n left behind"
	done
	return 0
}

# 1. Every key, as libxl writes them (--no-wait: no netback here).
$SPLITCTL --no-wait network-attach 5 mac=00:16:3E:0A:0b:0c bridge=brtest \
	rate=10Mb/s@20ms script=vif-bridge ip=10.0.0.5 >"$D/a.out" ||
	fail "network-attach: $(cat "$D/a.out")"
grep -q "attaching vif 0 of domain 5: mac 00:16:3e:0a:0b:0c, bridge brtest" \
	"$D/a.out" || fail "attach says: $(cat "$D/a.out")"
is $BE/0/frontend $FE/0
is $BE/0/frontend-id 5
is $BE/0/online 1
is $BE/0/state 1
is $BE/0/script /etc/xen/scripts/vif-bridge
is $BE/0/mac 00:16:3e:0a:0b:0c
is $BE/0/bridge brtest
is $BE/0/handle 0
is $BE/0/type vif
is $BE/0/rate 25000,20000 # 1,250,000 B/s x 20 ms
is $BE/0/ip 10.0.0.5
is $FE/0/backend $BE/0
is $FE/0/backend-id 0
is $FE/0/state 1
is $FE/0/handle 0
is $FE/0/mac 00:16:3e:0a:0b:0c
xenstore-ls -p $FE/0 | grep -q "(n5,r0)" || fail "frontend not owned by the guest"
xenstore-ls -p $BE/0 | grep -q "(n0,r5)" || fail "backend not owned by dom0"

# 2. Defaults: the next devid, a random MAC in Xen's OUI, xenbr0, no
# rate/script/ip; an absolute script is kept; bridge= (empty): none.
$SPLITCTL --no-wait network-attach 5 >/dev/null || fail "bare network-attach"
is $BE/1/handle 1
is $BE/1/bridge xenbr0
mac1=$(xenstore-read $BE/1/mac)
echo "$mac1" | grep -Eq '^00:16:3e:[0-7][0-9a-f]:[0-9a-f]{2}:[0-9a-f]{2}$' ||
	fail "random MAC $mac1 is not libxl's 00:16:3e:(0-7)x:xx:xx"
is $FE/1/mac "$mac1"
gone $BE/1/rate $BE/1/script $BE/1/ip
$SPLITCTL --no-wait network-attach 5 bridge= script=/usr/local/bin/v \
	rate=1MB/s >/dev/null || fail "attach with bridge="
gone $BE/2/bridge
is $BE/2/script /usr/local/bin/v
is $BE/2/rate 50000,50000 # xl's default interval, 50 ms
[ "$(xenstore-read $BE/2/mac)" != "$mac1" ] || fail "the same random MAC twice"

# 3. A MAC the domain has already: refused, nothing written.
$SPLITCTL --no-wait network-attach 5 mac=00:16:3e:0a:0b:0c >"$D/dup" 2>&1 &&
	fail "the same MAC attached twice"
grep -q "vif 0 of domain 5 has that MAC already (splitctl network-detach 5 00:16:3e:0a:0b:0c" \
	"$D/dup" || fail "duplicate MAC: $(cat "$D/dup")"
gone $BE/3 $FE/3

# 4. Bad arguments: exit 2, a reason, nothing written.
bad() {
	want=$1
	shift
	$SPLITCTL --no-wait network-attach "$@" >/dev/null 2>"$D/bad.err"
	rc=$?
	[ $rc -eq 2 ] || fail "network-attach $*: exit $rc, not 2"
	grep -q -- "$want" "$D/bad.err" ||
		fail "network-attach $*: no '$want' in: $(cat "$D/bad.err")"
	gone $BE/3 $FE/3
}
bad "not a MAC address" 5 mac=00:16:3e:0a:0b
bad "not a MAC address" 5 mac=00:16:3e:0a:0b:zz
bad "not a MAC address" 5 mac=00-16-3e-0a-0b-0c
bad "a multicast address" 5 mac=01:00:5e:00:00:01
bad "the rate's unit must be" 5 rate=10Mb
bad "the rate must be 1..4294967295" 5 rate=0Mb/s
bad "the interval's unit must be" 5 rate=10Mb/s@5m
bad "less than one byte per interval" 5 rate=1b/s
bad "not an interface name" 5 bridge=a-bridge-name-too-long
bad "not an interface name" 5 bridge=a/b
bad "only vif" 5 type=ioemu
bad "backend=x: a domain id" 5 backend=x
bad "unknown network-attach key 'model'" 5 model=e1000
bad "KEY=VALUE" 5 xenbr0
$SPLITCTL network-attach 0 >/dev/null 2>&1
[ $? -eq 2 ] || fail "dom0 as the guest not refused with exit 2"
$SPLITCTL --no-wait network-attach 9 >"$D/nodom" 2>&1 && fail "domain 9 attached"
grep -q "cannot attach a NIC (mac .*) to domain 9: domain 9 does not exist" \
	"$D/nodom" || fail "no domain: $(cat "$D/nodom")"
gone /local/domain/0/backend/vif/9 /local/domain/9
$SPLITCTL --no-wait network-attach 5 backend=7 >"$D/nobe" 2>&1 &&
	fail "backend 7 accepted"
grep -q "backend domain 7 does not exist" "$D/nobe" || fail "$(cat "$D/nobe")"

# 5. network-list: xl's columns, one line per NIC.
$SPLITCTL network-list 5 >"$D/list" || fail "network-list"
grep -q "^Idx  *BE  *Mac Addr\. *handle  *state  *evt-ch  *tx-/rx-ring-ref  *BE-path" \
	"$D/list" || fail "network-list header: $(head -1 "$D/list")"
grep -Eq "^0 +0 +00:16:3e:0a:0b:0c +0 +1 +-1 +-1/-1 +$BE/0$" "$D/list" ||
	fail "network-list vif 0: $(cat "$D/list")"
[ "$(grep -c '^[0-9]' "$D/list")" -eq 3 ] || fail "network-list: $(cat "$D/list")"

# 6. Detach by MAC and by devid; nobody took them (state 1): removed at
# once. Again: nothing to detach (exit 1); a bad name: exit 2.
$SPLITCTL network-detach 5 00:16:3E:0A:0B:0C >"$D/d.out" ||
	fail "network-detach by MAC: $(cat "$D/d.out")"
grep -q "detached vif 0 of domain 5" "$D/d.out" || fail "$(cat "$D/d.out")"
gone $BE/0 $FE/0
$SPLITCTL network-detach 5 1 >/dev/null || fail "network-detach by devid"
gone $BE/1 $FE/1
$SPLITCTL network-detach 5 1 >/dev/null 2>&1
[ $? -eq 1 ] || fail "detached vif 1 twice"
$SPLITCTL network-detach 5 eth0 >/dev/null 2>&1
[ $? -eq 2 ] || fail "a bad devid/MAC not refused with exit 2"
# the guest's side is gone (it died): detach finds the backend's
xenstore-rm $FE/2 || fail "rm frontend"
$SPLITCTL network-detach 5 2 >/dev/null || fail "detach without frontend"
gone $BE/2

# doc/netback-modules.md's recipe, word for word
DOC="$top_srcdir/doc/netback-modules.md"
. "$top_srcdir/tests/integration/doc-recipe.sh"
N=5
run_recipe network-attach >"$D/recipe.out" 2>&1 ||
	fail "recipe network-attach: $(cat "$D/recipe.out")"
grep -q "^attaching vif 0 of domain 5: mac 00:16:3e:00:00:2a, bridge xenbr0" \
	"$D/recipe.out" || fail "recipe attach: $(cat "$D/recipe.out")"
grep -Eq "^0 +0 +00:16:3e:00:00:2a +0 +1 " "$D/recipe.out" ||
	fail "recipe list: $(cat "$D/recipe.out")"
grep -q "^detached vif 0 of domain 5" "$D/recipe.out" ||
	fail "recipe detach: $(cat "$D/recipe.out")"
gone $BE/0 $FE/0

# 7. The timeout path: nobody takes the device within --wait 1: exit 1,
# says so, and removes what it wrote.
$SPLITCTL --wait 1 network-attach 5 >"$D/t.out" 2>"$D/t.err" &&
	fail "attached without a backend"
grep -q "cannot attach vif 0 (mac .*) to domain 5: netback did not take the device within 1 s (is netback running? splitctl status netback)" \
	"$D/t.err" || fail "timeout: $(cat "$D/t.err")"
grep -q "removed $BE/0 and $FE/0" "$D/t.err" || fail "timeout: $(cat "$D/t.err")"
gone $BE/0 $FE/0

# A stand-in backend for vif 0: MODE error (writes an error and Closed in
# one transaction, as a backend failing at once) or connect (InitWait,
# Connected, then Closed once online=0). Ends by itself.
fake_backend() {
	(
		be=$BE/0
		end=$(($(date +%s) + TEST_DEADLINE))
		until [ "$(xenstore-read $be/state 2>/dev/null)" = 1 ]; do
			[ "$(date +%s)" -lt "$end" ] || exit 1
			sleep 0.05
		done
		if [ "$1" = error ]; then
			xenstore-write $be/error "19 bridge xenbr9 does not exist" \
				$be/state 6
			exit 0
		fi
		xenstore-write $be/state 2
		sleep 0.3 # a netfront would take this long
		xenstore-write $be/state 4
		until [ "$(xenstore-read $be/online 2>/dev/null)" = 0 ]; do
			[ "$(date +%s)" -lt "$end" ] || exit 1
			sleep 0.05
		done
		xenstore-write $be/state 6
	) &
	FAKE_PID=$!
}
fake_done() {
	wait "$FAKE_PID" || fail "the stand-in backend did not finish"
	FAKE_PID=
}

# 8. The backend reports an error: it is said in words, then removed.
fake_backend error
$SPLITCTL --wait 20 network-attach 5 bridge=xenbr9 >"$D/e.out" 2>"$D/e.err" &&
	fail "attached though the backend failed"
fake_done
grep -q "cannot attach vif 0 (mac .*) to domain 5: No such device (the backend reports: bridge xenbr9 does not exist)" \
	"$D/e.err" || fail "backend error: $(cat "$D/e.err")"
gone $BE/0 $FE/0

# 9. Connected: progress, then "connected"; detach closes it libxl's way
# (online=0, Closing, wait for Closed) and removes it.
fake_backend connect
$SPLITCTL --wait 20 network-attach 5 mac=00:16:3e:00:00:01 >"$D/c.out" 2>&1 ||
	fail "attach with the stand-in backend: $(cat "$D/c.out")"
grep -q "attached vif 0 of domain 5: mac 00:16:3e:00:00:01, bridge xenbr0: connected" \
	"$D/c.out" || fail "connect: $(cat "$D/c.out")"
$SPLITCTL network-list 5 | grep -Eq "^0 +0 +00:16:3e:00:00:01 +0 +1 " ||
	fail "network-list after connect"
$SPLITCTL --wait 20 network-detach 5 0 >"$D/cd.out" 2>&1 ||
	fail "detach of a connected vif: $(cat "$D/cd.out")"
fake_done
grep -q "^detached vif 0 of domain 5$" "$D/cd.out" || fail "$(cat "$D/cd.out")"
gone $BE/0 $FE/0

echo "PASS: splitctl network-attach/detach/list"
