# xenstore-pv: xl create a PV domU; it uses its disk and NIC (kernel
# backends); our store holds the backend and frontend nodes; xl destroy
# leaves no /local/domain/<id> and no backend nodes behind (and the domain
# death reaches the hv layer's death stream); a second domU gets the next
# domid and works the same.
DISK=/run/disk.img
BE=/local/domain/0/backend
dd if=/dev/zero of=$DISK bs=1M count=8 2>/dev/null
echo HELLO-FROM-DOM0 | dd of=$DISK conv=notrunc 2>/dev/null

# run_domu NAME - create, wait for its script, check the store while it
# runs, destroy, check what is left.
run_domu() {
	local name=$1 id ok=1 fe w
	# @introduceDomain fires on registration and on the XS_INTRODUCE.
	xenstore-watch -n 2 @introduceDomain > /run/introduce-$name.out 2>&1 &
	w=$!
	domu_create "$name" || return 1
	id=$DOMID
	wait_for 20 sh -c "[ \$(wc -l < /run/introduce-$name.out) -ge 2 ]" &&
		mark "dom0-introduce-fired $name" ||
		{ kill $w; fail "@introduceDomain did not fire for $name: $(cat /run/introduce-$name.out)"; ok=0; }
	fe=/local/domain/$id
	domu_wait_done "$name" "$id" 180 || ok=0
	domu_console "$name"
	xs_expect $fe/name "$name" || ok=0
	xs_expect $fe/domid "$id" || ok=0
	xs_expect $fe/device/vbd/51712/state 4 || ok=0
	xs_expect $fe/device/vbd/51712/backend $BE/vbd/$id/51712 || ok=0
	xs_expect $BE/vbd/$id/51712/state 4 || ok=0
	xs_expect $BE/vbd/$id/51712/frontend $fe/device/vbd/51712 || ok=0
	xs_expect $BE/vbd/$id/51712/frontend-id "$id" || ok=0
	xs_expect $fe/device/vif/0/state 4 || ok=0
	xs_expect $fe/device/vif/0/backend $BE/vif/$id/0 || ok=0
	xs_expect $BE/vif/$id/0/state 4 || ok=0
	xs_expect $BE/vif/$id/0/frontend-id "$id" || ok=0
	[ $ok = 1 ] && mark "dom0-store-ok $name"

	# The hv layer's death stream must see this domain die.
	/usr/libexec/splitdrv-tests/hvcheck death "$id" 60 > /run/death-$id.out 2>&1 &
	local hv=$!
	# @releaseDomain fires on registration and when the domain dies.
	xenstore-watch -n 2 @releaseDomain > /run/release-$id.out 2>&1 &
	w=$!
	sleep 1
	domu_destroy "$name" || return 1
	domu_gone "$name" 30 || ok=0
	wait_for 20 sh -c "[ \$(wc -l < /run/release-$id.out) -ge 2 ]" &&
		mark "dom0-release-fired $name" ||
		{ kill $w; fail "@releaseDomain did not fire for $name: $(cat /run/release-$id.out)"; ok=0; }
	wait $hv
	cat /run/death-$id.out
	xs_absent $fe || ok=0
	xs_absent $BE/vbd/$id || ok=0
	xs_absent $BE/vif/$id || ok=0
	[ $ok = 1 ] && mark "dom0-destroy-clean $name"
	LAST_DOMID=$id
	[ $ok = 1 ]
}

run_domu u1 || exit 1
s=$(dd if=$DISK bs=512 skip=1 count=1 2>/dev/null | head -c 15)
[ "$s" = HELLO-FROM-DOMU ] && mark dom0-disk-ok || fail "dom0 reads sector 1: '$s'"
first=$LAST_DOMID
run_domu u2 || exit 1
[ "$LAST_DOMID" = $((first + 1)) ] && mark "next-domid-ok ($first then $LAST_DOMID)" ||
	fail "second domU got domid $LAST_DOMID after $first"
