#!/bin/sh
# hvmloader-tables.sh - the table builders run on the host (hvmdump build)
# for 1, 2, 15 and 128 vCPUs with 1 GiB, 3.5 GiB and 8 GiB, and every result
# through the external validators (iasl -d, acpiexec, dmidecode, biosdecode)
# and ours.  Covers the shapes too large to boot quickly under TCG.
. "$top_srcdir/tests/integration/hvmloader/lib.sh"
hvm_need iasl acpiexec dmidecode biosdecode
hvm_tmpdir

for vcpus in 1 2 15 128; do
	for mem in 1024 3584 8192; do
		d=$HVM_TMP/v$vcpus-m$mem
		echo "== $vcpus vCPUs, $mem MiB"
		mkdir -p "$d"
		if ! "$HVMDUMP" build -n "$vcpus" -m "$mem" "$d/t" >/dev/null; then
			hvm_fail "hvmdump build -n $vcpus -m $mem"
			continue
		fi
		hvm_validate "$d" "$vcpus"
	done
done

[ "$HVM_FAILS" = 0 ] || { echo "$HVM_FAILS failure(s)"; exit 1; }
echo "all 12 shapes validated"
