#!/usr/bin/env bash
# xs-guests.sh - a thousand guests against one xenstored (doc/xenstored-bench.md,
# "A thousand guests"): bench/xs-guests against our xenstored over loop
# rings and over unix sockets, and against Debian's C xenstored and
# oxenstored over unix sockets (their rings cannot run without Xen), one
# fresh daemon each, in one run; prints the figures side by side.
#
#   bench/xs-guests.sh BUILDDIR
#
# Targets, judged in the table: the p99 watch-event latency and the memory
# per domain of our xenstored on rings <= 0.5 x C xenstored's (which runs
# on sockets: the rows say so), and its p99s flat from the first step to
# the last (<= 1.25 x).
#
# Environment: XSGUESTS_STEPS (10,100,1000: guests after each step),
# XSGUESTS_SAMPLES (2000 writes and 2000 watch events per step),
# XSGUESTS_RATE (1000 ops/s, paced), XSGUESTS_WATCHES (12 per guest),
# XSGUESTS_PIN (same: daemons and client on the last CPU; split: client
# on the one before; none), XSBENCH_ANCHOR (the anchor directory).
#
# Exit status: 0 when our xenstored ran every step on rings and sockets
# (targets met or not), 1 otherwise, 77 when bench/xs-guests is not built.
set -euo pipefail

STEPS=${XSGUESTS_STEPS:-10,100,1000}
SAMPLES=${XSGUESTS_SAMPLES:-2000}
RATE=${XSGUESTS_RATE:-1000}
WATCHES=${XSGUESTS_WATCHES:-12}
PIN=${XSGUESTS_PIN:-same}
CONFIGS="ring sock c ox"

die() { printf 'xs-guests: %s\n' "$*" >&2; exit 1; }

[ $# -eq 1 ] || die "usage: $0 BUILDDIR"
B=$(cd "$1" && pwd) || die "no build directory $1"
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ANCHOR=${XSBENCH_ANCHOR:-$top/../shared/anchors/xenstored}
CLIENT=$B/bench/xs-guests
OURS=$B/xenstored/xenstored
HVD=$B/loophv/loophvd

if [ ! -x "$CLIENT" ]; then
	echo "xs-guests: $CLIENT is not built; skipped"
	exit 77
fi
[ -x "$OURS" ] || die "$OURS is not built"
[ -x "$HVD" ] || die "$HVD is not built"

# shellcheck source=bench/xs-daemons.sh
. "$top/bench/xs-daemons.sh"
xsd_pin "$PIN" XSGUESTS_PIN || exit 1
CLIENT_RUN=("$CLIENT")
[ -n "$CCPU" ] && CLIENT_RUN=(taskset -c "$CCPU" "$CLIENT")

tmp=$(mktemp -d "${TMPDIR:-/tmp}/xsguests.XXXXXX")
declare -A PID SOCK WHY
PID=([ring]="" [sock]="" [c]="" [ox]="" [hvd]="")

# stop KEY - stop one configuration's daemon(s).
stop() {
	case $1 in
	c | ox) [ -n "${PID[$1]}" ] && xsd_stop_debian "$tmp/$1" ;;
	ring) xsd_kill "${PID[ring]}"; xsd_kill "${PID[hvd]}"; PID[hvd]="" ;;
	*) xsd_kill "${PID[$1]}" ;;
	esac
	PID[$1]=""
}

# shellcheck disable=SC2317 # cleanup runs from the trap
cleanup() {
	local k
	trap - EXIT INT TERM
	for k in $CONFIGS; do
		stop "$k"
	done
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start KEY - a fresh daemon for one configuration.
start() {
	local d=$tmp/$1
	case $1 in
	ring)
		mkdir -p "$d"
		"$HVD" --foreground --run-dir "$d" >"$d/loophvd.log" 2>&1 </dev/null &
		PID[hvd]=$!
		if ! xsd_wait_socket hvd "$d/loophvd.sock"; then
			WHY[ring]="loophvd did not start: $(tail -1 "$d/loophvd.log")"
			return 1
		fi
		xsd_start_splitdrv ring "$d" --hv=loop --no-persist ;;
	sock) xsd_start_splitdrv sock "$d" --no-persist ;;
	c | ox)
		[ -z "${ANCHOR_WHY+x}" ] || { WHY[$1]=$ANCHOR_WHY; return 1; }
		xsd_start_debian "$1" "$1" "$d" ;;
	esac
}

name() {
	case $1 in
	ring) echo "splitdrv xenstored (loop rings)" ;;
	sock) echo "splitdrv xenstored (sockets)" ;;
	c) echo "C xenstored (sockets)" ;;
	ox) echo "oxenstored (sockets)" ;;
	esac
}

if ! ANCHOR_OUT=$(xsd_prepare_anchor); then
	ANCHOR_WHY=$ANCHOR_OUT
fi

echo "xs-guests: guests in steps of $STEPS; per step $SAMPLES guest writes and" \
	"$SAMPLES backend-write -> guest-event round trips at $RATE ops/s;" \
	"$WATCHES watches per guest; CPUs: daemons ${DCPU:-any}," \
	"client ${CCPU:-any} (XSGUESTS_PIN=$PIN)"
mkdir -p "$tmp/res"
begin=$(date +%s)
for k in $CONFIGS; do
	if ! start "$k"; then
		stop "$k"
		continue
	fi
	if [ -n "$DCPU" ]; then
		taskset -a -c -p "$DCPU" "${PID[$k]}" >/dev/null
		[ -z "${PID[hvd]}" ] || taskset -a -c -p "$DCPU" "${PID[hvd]}" >/dev/null
	fi
	args=(--socket "${SOCK[$k]}" --pid "${PID[$k]}" --steps "$STEPS"
		--samples "$SAMPLES" --rate "$RATE" --watches "$WATCHES")
	if [ "$k" = ring ]; then
		args+=(--transport ring --run-dir "$tmp/ring")
	else
		args+=(--transport socket)
	fi
	t0=$(date +%s)
	if ! "${CLIENT_RUN[@]}" "${args[@]}" >"$tmp/res/$k" 2>"$tmp/res/$k.err"; then
		WHY[$k]="failed: $(tail -2 "$tmp/res/$k.err" | tr '\n' ' ')"
		xsd_alive "${PID[$k]}" || WHY[$k]+=" (the daemon died)"
	fi
	echo "  $(name "$k"): $(wc -l <"$tmp/res/$k") steps ($(( $(date +%s) - t0 )) s)"
	stop "$k"
done

# facts: "config guests key value"
for k in $CONFIGS; do
	[ -s "$tmp/res/$k" ] || continue
	awk -v k="$k" '{
		g = ""; for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		for (f in v) if (f != "guests") print k, v["guests"], f, v[f]
		delete v }' "$tmp/res/$k"
done >"$tmp/facts"

awk -v steps="$STEPS" '
{ val[$1, $2, $3] = $4 }
function get(k, g, key,   b) {
	if (key == "mem_kb") {
		if (!((k, g, "rss_kb") in val)) return ""
		return (val[k, g, "rss_kb"] - val[k, g, "rss_base_kb"]) / g
	}
	if (key == "anon_kb") {
		if (!((k, g, "anon_kb") in val)) return ""
		return (val[k, g, "anon_kb"] - val[k, g, "anon_base_kb"]) / g
	}
	return ((k, g, key) in val) ? val[k, g, key] : ""
}
function cell(v, fmt) { return v == "" ? "-" : sprintf(fmt, v) }
function ratio(a, b) { return (a == "" || b == "" || b <= 0) ? "-" : sprintf("%.2fx", a / b) }
END {
	ns = split(steps, S, ",")
	n = 0
	R[++n] = "introduce_rate|introduce rate (guests/s)|%.0f|"
	R[++n] = "write_p50_us|guest write p50 (us)|%.1f|"
	R[++n] = "write_p99_us|guest write p99 (us)|%.1f|"
	R[++n] = "watch_p50_us|watch event p50 (us)|%.1f|"
	R[++n] = "watch_p99_us|watch event p99 (us)|%.1f|<=0.5"
	R[++n] = "mem_kb|memory/domain: RSS delta (KiB)|%.1f|<=0.5"
	R[++n] = "anon_kb|memory/domain: anon RSS delta (KiB)|%.1f|"
	R[++n] = "cpu_s|daemon CPU over the step (s)|%.3f|"
	line = ""; for (i = 0; i < 126; i++) line = line "-"
	printf "\n%-36s %9s %9s %9s %9s %8s %8s %8s  %s\n", "metric", "ours:ring", \
		"ours:sock", "C:sock", "ox:sock", "ring/C", "ring/ox", "sock/C", "target (ring vs C)"
	for (s = 1; s <= ns; s++) {
		g = S[s]
		print line
		printf "%d guests\n", g
		for (i = 1; i <= n; i++) {
			split(R[i], f, "|")
			r = get("ring", g, f[1]); o = get("sock", g, f[1])
			c = get("c", g, f[1]); x = get("ox", g, f[1])
			verdict = ""
			if (f[4] == "<=0.5") {
				if (r == "" || c == "" || c <= 0) verdict = "<= 0.5x C: n/a"
				else verdict = (r / c <= 0.5) ? "<= 0.5x C: met" : "<= 0.5x C: NOT met"
			}
			printf "  %-34s %9s %9s %9s %9s %8s %8s %8s  %s\n", f[2], cell(r, f[3]), \
				cell(o, f[3]), cell(c, f[3]), cell(x, f[3]), ratio(r, c), \
				ratio(r, x), ratio(o, c), verdict
		}
	}
	print line
	first = S[1]; last = S[ns]
	printf "p99 growth, %d / %d guests (flat: <= 1.25x)\n", last, first
	split("write_p99_us watch_p99_us", P, " ")
	for (i = 1; i <= 2; i++) {
		printf "  %-34s", P[i]
		split("ring sock c ox", K, " ")
		for (j = 1; j <= 4; j++) {
			a = get(K[j], first, P[i]); b = get(K[j], last, P[i])
			printf " %9s", ratio(b, a)
		}
		a = get("ring", first, P[i]); b = get("ring", last, P[i])
		if (a == "" || b == "" || ns < 2) v = "flat: n/a"
		else v = (b / a <= 1.25) ? "flat (ours:ring): met" : "flat (ours:ring): NOT met"
		printf " %26s  %s\n", "", v
	}
	print line
}' "$tmp/facts"

cat <<'EOF'
What differs: ours:ring runs each guest as a loop domain with its own xenstore ring
page and event channel (XS_INTRODUCE'd, permission and quota checks on); every
:sock column, ours included, serves each "guest" as a dom0 unix-socket connection
(no INTRODUCE, no permission or quota checks), since Debian's daemons cannot map
rings without Xen. ring/C and ring/ox therefore compare transports too; sock/C is
like for like. Latencies: one op at a time from one client process, so they are
an idle daemon's that holds N guests; memory: the daemon's VmRSS (anon: RssAnon)
after the step minus before the first guest, over the guests. The ring column's
RSS counts 12 KiB per guest of shared pages that C's socket clients do not have:
the guest's ring page, which a ring daemon maps on Xen too, and two pages of the
loopback hypervisor's own (the guest's grant-table frame, read to map the ring,
and its event channel's doorbell); its anon RSS leaves them out.
EOF
rc=0
for k in $CONFIGS; do
	[ -n "${WHY[$k]:-}" ] || continue
	echo "$(name "$k"): ${WHY[$k]}"
	case $k in ring | sock) rc=1 ;; esac
done
echo "(total $(( $(date +%s) - begin )) s)"
exit $rc
