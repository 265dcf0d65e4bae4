#!/bin/sh
# netfront-ping.sh - a loopback guest's netfront through our netback, the
# whole stack: loophvd, xenstored --hv=loop, netback, a loopguest with
# --nic whose interface (a TAP) lives in a network namespace of its own,
# and netback's host side vif<domid>.<handle> moved into a second one.
# (netback itself stays in this namespace: the launcher's readiness
# socket is an abstract one, which a namespace would hide.)
# ping 64/1400/8000 bytes, then iperf3 both ways for a few seconds when
# it is installed; netback's counters must have seen the traffic.
# Needs root and /dev/net/tun (skips with the reason otherwise).
# NB_QUEUES / NB_GUEST_OPTS: the guest's queue count and extra options;
# NB_HANDLE: the vif's handle (default 0; tests running side by side
# take different ones: their guests may have the same domid);
# NB_PING_ONLY=1: no iperf3 (tests/integration/netfront-modes.sh).
set -u
. "$top_srcdir/tests/integration/xenstored-common.sh"

LOOPHVD="$top_builddir/loophv/loophvd"
NETBACK="$top_builddir/netback/netback"
LOOPGUEST="$top_builddir/tools/loopguest"
SPLITCTL="$top_builddir/tools/splitctl"
NB_QUEUES=${NB_QUEUES:-1}
H=${NB_HANDLE:-0}
NB_GUEST_OPTS=${NB_GUEST_OPTS:-}
LHV_PID=
NB_PID=
GUEST_PID=
NSG=nbg$$
NSH=nbh$$

[ "$(id -u)" = 0 ] || skip "needs root (TAP devices, network namespaces)"
[ -c /dev/net/tun ] || skip "no /dev/net/tun"
command -v ip >/dev/null 2>&1 || skip "ip not installed (iproute2)"
command -v ping >/dev/null 2>&1 || skip "ping not installed (iputils-ping)"
command -v xenstore-write >/dev/null 2>&1 ||
	skip "xenstore-write not installed (xenstore-utils)"
for b in "$LOOPHVD" "$NETBACK" "$LOOPGUEST" "$SPLITCTL"; do
	[ -x "$b" ] || fail "$b not built"
done
ip netns add "$NSG" 2>/dev/null || skip "cannot create network namespaces"
ip netns add "$NSH" || skip "cannot create network namespaces"

nb_cleanup() {
	for p in $GUEST_PID $NB_PID; do
		kill -TERM "$p" 2>/dev/null
		i=0
		while kill -0 "$p" 2>/dev/null && [ $i -lt 50 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		kill -9 "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	for p in $XSD_PID $LHV_PID; do
		kill -9 "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	XSD_PID=
	ip netns del "$NSG" 2>/dev/null
	ip netns del "$NSH" 2>/dev/null
	xsd_cleanup
}
trap nb_cleanup EXIT

fail() {
	echo "FAIL: $*"
	for f in "$D"/*.log "$D"/log "$D"/*.out; do
		[ -f "$f" ] || continue
		echo "---- $f"
		tail -n 30 "$f"
	done
	exit 1
}

wait_line() { # FILE REGEX
	wait_until "grep -Eq '$2' '$1' 2>/dev/null" "no line '$2' in $1"
}

launch loophvd "$D/loophvd.log" "$LOOPHVD" --foreground --run-dir "$D"
LHV_PID=$LAUNCHED_PID
xsd_start --hv=loop
launch netback "$D/netback.log" "$NETBACK" --foreground --hv=loop \
	--run-dir "$D" --log-level=info
NB_PID=$LAUNCHED_PID

# the guest, in its own network namespace
# shellcheck disable=SC2086
ip netns exec "$NSG" "$LOOPGUEST" --run-dir "$D" --name g1 --nic "$H" \
	--nic-queues "$NB_QUEUES" $NB_GUEST_OPTS -v >"$D/g1.out" 2>"$D/g1.log" &
GUEST_PID=$!
wait_line "$D/g1.out" '^domid [0-9]+$'
DOMID=$(sed -n 's/^domid \([0-9]*\)$/\1/p' "$D/g1.out")
"$SPLITCTL" --run-dir "$D" --hv loop introduce "$DOMID" g1 \
	>>"$D/splitctl.log" 2>&1 || fail "splitctl introduce"

# the toolstack's part (libxl's layout for a vif)
FE=/local/domain/$DOMID/device/vif/$H
BE=/local/domain/0/backend/vif/$DOMID/$H
MAC=00:16:3e:00:00:0$DOMID
xs() { "$@" >>"$D/xs.log" 2>&1 || fail "$*"; }
xs xenstore-write "$FE/backend" "$BE" "$FE/backend-id" 0 "$FE/handle" "$H" \
	"$FE/mac" "$MAC" "$FE/state" 1
xs xenstore-chmod -r "$FE" "n$DOMID" r0
xs xenstore-write "$BE/frontend" "$FE" "$BE/frontend-id" "$DOMID" \
	"$BE/handle" "$H" "$BE/mac" "$MAC" "$BE/online" 1 "$BE/state" 1
xs xenstore-chmod -r "$BE" n0 "r$DOMID"

wait_line "$D/g1.out" "^nic $H connected: "
grep '^nic' "$D/g1.out"
VIF=vif$DOMID.$H
ip link show "$VIF" >/dev/null 2>&1 || fail "$VIF does not exist on the host"
ip link set "$VIF" netns "$NSH" || fail "moving $VIF into $NSH"
ip -n "$NSH" addr add 10.199.0.1/24 dev "$VIF" || fail "address on $VIF"
ip -n "$NSH" link set "$VIF" up || fail "$VIF up"
ip -n "$NSH" link set lo up
ip -n "$NSG" addr add 10.199.0.2/24 dev eth0 || fail "address on eth0"
ip -n "$NSG" link set lo up

for size in 64 1400 8000; do
	ip netns exec "$NSG" ping -c 3 -i 0.2 -W 5 -s "$size" 10.199.0.1 \
		>"$D/ping.out" 2>&1 || fail "ping -s $size guest -> host: $(cat "$D/ping.out")"
	ip netns exec "$NSH" ping -c 3 -i 0.2 -W 5 -s "$size" 10.199.0.2 \
		>"$D/ping.out" 2>&1 || fail "ping -s $size host -> guest: $(cat "$D/ping.out")"
	echo "ping $size bytes: both ways ok"
done

nb_stat() { # KEY - a counter of netback's stats of the guest's vif
	"$SPLITCTL" --run-dir "$D" stats netback 2>/dev/null | python3 -c '
import json, sys
for d in json.load(sys.stdin)["result"]["devices"]:
    if d["frontend-domid"] == int(sys.argv[1]) and "stats" in d:
        print(d["stats"][sys.argv[2]]); sys.exit(0)
print(-1)' "$DOMID" "$1"
}
[ "$(nb_stat tx_packets)" -ge 18 ] || fail "netback counted $(nb_stat tx_packets) tx packets"
[ "$(nb_stat rx_packets)" -ge 18 ] || fail "netback counted $(nb_stat rx_packets) rx packets"
[ "$(nb_stat halts)" = 0 ] || fail "the vif was halted"

if [ -n "${NB_PING_ONLY:-}" ]; then
	echo "PASS: ping 64/1400/8000 both ways ($NB_QUEUES queue(s) $NB_GUEST_OPTS)"
	exit 0
elif command -v iperf3 >/dev/null 2>&1; then
	for dir in "" -R; do
		ip netns exec "$NSH" iperf3 -s -1 >"$D/iperf3-s.log" 2>&1 &
		SRV=$!
		sleep 0.5
		ip netns exec "$NSG" iperf3 -c 10.199.0.1 -t 3 $dir -f m \
			>"$D/iperf3.out" 2>&1 || {
			kill "$SRV" 2>/dev/null
			fail "iperf3 $dir: $(tail -3 "$D/iperf3.out")"
		}
		wait "$SRV"
		rate=$(awk '/receiver/ { print $7, $8 }' "$D/iperf3.out")
		[ -n "$rate" ] || fail "iperf3 $dir: no result"
		echo "iperf3 ${dir:-guest->host}${dir:+ (host->guest)}: $rate"
	done
	[ "$(nb_stat halts)" = 0 ] || fail "the vif was halted"
else
	skip "iperf3 not installed; ping passed"
fi
echo "netback stats: $("$SPLITCTL" --run-dir "$D" stats netback | tr -d '\n' | head -c 600)"
echo "PASS: ping 64/1400/8000 and iperf3 both ways through netfront, netback and the TAP"
