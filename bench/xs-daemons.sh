# shellcheck shell=bash disable=SC2004,SC2034,SC2154 # tmp, OURS, ANCHOR, PID, SOCK, WHY, DCPU, CCPU: the caller's
# xs-daemons.sh - start and stop the xenstoreds that the bench scripts
# compare (sourced by bench/xenstored-compare.sh and bench/xs-guests.sh):
# ours, and Debian's C xenstored and oxenstored through the anchor scripts
# of ../shared/anchors/xenstored, whose LD_PRELOAD shim is built into
# $tmp/anchor (never beside the anchor, never in the tree).
#
# The caller sets tmp (a scratch directory), OURS (our xenstored binary)
# and ANCHOR (the anchor directory), and declares the associative arrays
# PID, SOCK and WHY, keyed by a name of its choice for each daemon:
# xsd_start_* fill PID[key] and SOCK[key], or WHY[key] and return 1.

# xsd_alive PID - the process exists and is not a zombie.
xsd_alive() {
	[ -n "$1" ] && kill -0 "$1" 2>/dev/null &&
		[ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]
}

# xsd_pin MODE VARIABLE - the CPUs of MODE (same: daemons and client on the
# last CPU; split: client on the one before; none: the scheduler's) into
# DCPU and CCPU (empty: any); else a message naming VARIABLE, return 1.
xsd_pin() {
	local ncpu
	ncpu=$(nproc)
	case $1 in
	same) DCPU=$((ncpu - 1)); CCPU=$DCPU ;;
	split)
		[ "$ncpu" -ge 2 ] || { echo "$2=split needs two CPUs" >&2; return 1; }
		DCPU=$((ncpu - 1)); CCPU=$((ncpu - 2)) ;;
	none) DCPU=""; CCPU="" ;;
	*) echo "$2 must be same, split or none" >&2; return 1 ;;
	esac
}

# xsd_wait_socket KEY PATH - wait (5 s) for PATH while PID[KEY] lives.
xsd_wait_socket() {
	local _
	for _ in $(seq 100); do
		[ -S "$2" ] && return 0
		xsd_alive "${PID[$1]}" || return 1
		sleep 0.05
	done
	[ -S "$2" ]
}

# xsd_start_splitdrv KEY DIR [OPTION...] - our xenstored in the foreground
# (in the background of this shell), socket DIR/socket, log DIR/log.
xsd_start_splitdrv() {
	local key=$1 d=$2
	shift 2
	mkdir -p "$d"
	"$OURS" --foreground --run-dir "$d" --socket "$d/socket" \
		--log-level warning "$@" >"$d/log" 2>&1 </dev/null &
	PID[$key]=$!
	if ! xsd_wait_socket "$key" "$d/socket"; then
		WHY[$key]="did not start: $(tail -1 "$d/log" 2>/dev/null)"
		return 1
	fi
	SOCK[$key]=$d/socket
}

# xsd_prepare_anchor - copy the anchor's scripts into $tmp/anchor and build
# their shim there; on failure, prints why and returns 1.
xsd_prepare_anchor() {
	local f
	for f in run-cxenstored.sh run-oxenstored.sh stop-xenstored.sh \
		oxenstored.conf shim/xenshim.c; do
		[ -f "$ANCHOR/$f" ] || { echo "no $ANCHOR/$f"; return 1; }
	done
	mkdir -p "$tmp/anchor/shim"
	cp "$ANCHOR"/run-cxenstored.sh "$ANCHOR"/run-oxenstored.sh \
		"$ANCHOR"/stop-xenstored.sh "$ANCHOR"/oxenstored.conf "$tmp/anchor/"
	"${CC:-gcc}" -O2 -fPIC -shared -o "$tmp/anchor/shim/xenshim.so" \
		"$ANCHOR/shim/xenshim.c" -ldl >"$tmp/anchor/shim.log" 2>&1 ||
		{ echo "shim does not build: $(head -1 "$tmp/anchor/shim.log")"; return 1; }
}

# xsd_start_debian KEY c|ox DIR - Debian's daemon through the anchor's run
# script (after xsd_prepare_anchor), all its files in DIR.
xsd_start_debian() {
	local key=$1 which=$2 d=$3 script bin out
	case $which in
	c) script=run-cxenstored.sh; bin=/usr/lib/xen-4.17/bin/xenstored ;;
	ox) script=run-oxenstored.sh; bin=/usr/lib/xen-4.17/bin/oxenstored ;;
	esac
	if [ ! -x "$bin" ]; then
		WHY[$key]="no $bin (apt-get install xen-utils-4.17)"
		return 1
	fi
	if [ "$which" = ox ]; then
		out=$(sh "$tmp/anchor/$script" "$d" --no-access-log 2>&1) || true
	else
		out=$(sh "$tmp/anchor/$script" "$d" 2>&1) || true
	fi
	if [ -f "$d/pid" ]; then
		PID[$key]=$(cat "$d/pid")
	fi
	if [ ! -S "$d/socket" ] || ! xsd_alive "${PID[$key]}"; then
		WHY[$key]="did not start: $(printf '%s\n' "$out" | tail -1)"
		WHY[$key]+="; $(tail -1 "$d/stderr.log" 2>/dev/null)"
		return 1
	fi
	SOCK[$key]=$d/socket
}

# xsd_stop_debian DIR - the anchor's stop script for a daemon run in DIR.
xsd_stop_debian() {
	[ -f "$tmp/anchor/stop-xenstored.sh" ] || return 0
	sh "$tmp/anchor/stop-xenstored.sh" "$1" >/dev/null 2>&1 || true
}

# xsd_kill PID - SIGTERM, up to 2 s to go, then SIGKILL.
xsd_kill() {
	local p=$1 _
	[ -n "$p" ] || return 0
	kill -TERM "$p" 2>/dev/null || return 0
	for _ in $(seq 20); do
		xsd_alive "$p" || break
		sleep 0.1
	done
	kill -KILL "$p" 2>/dev/null || true
}
