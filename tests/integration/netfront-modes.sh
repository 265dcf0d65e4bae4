#!/bin/sh
# netfront-modes.sh - netfront-ping.sh's pings in the negotiated modes
# that the default run does not take: 4 queues, 2 queues on one event
# channel each, no scatter-gather (1500-byte frames, one slot each), no
# checksum or GSO offload.
set -u
rc=0
h=0
for mode in "4|" "2|--nic-no-split" "1|--nic-no-sg" "2|--nic-no-gso --nic-no-csum"; do
	h=$((h + 1)) # handles 1..4: netfront-ping.sh has 0
	NB_HANDLE=$h NB_QUEUES=${mode%%|*} NB_GUEST_OPTS=${mode#*|} NB_PING_ONLY=1 \
		sh "$top_srcdir/tests/integration/netfront-ping.sh"
	r=$?
	[ $r = 77 ] && exit 77 # the same reason for every mode
	[ $r = 0 ] || rc=1
done
exit $rc
