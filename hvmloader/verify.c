/*
 * verify.c - independent checks of the tables, used by the unit tests and
 * by hvmdump on what the firmware really wrote.  They parse bytes only and
 * never trust a length before checking it against the buffer.
 */
#include "hvm.h"

static int fail(const char **why, const char *msg)
{
	if (why)
		*why = msg;
	return -EBADMSG;
}

/* One ACPI table: length within `len`, signature, checksum. */
int hvm_acpi_verify(const void *table, size_t len, const char **why)
{
	const struct hvm_acpi_header *h = table;
	uint32_t tlen;
	int i;

	if (len < sizeof(*h))
		return fail(why, "shorter than an ACPI header");
	__builtin_memcpy(&tlen, &h->length, 4);
	if (tlen < sizeof(*h) || tlen > len)
		return fail(why, "length field out of range");
	for (i = 0; i < 4; i++)
		if (h->signature[i] < 'A' || h->signature[i] > 'Z')
			return fail(why, "signature not upper-case letters");
	if (hvm_sum8(table, tlen))
		return fail(why, "bad checksum");
	return 0;
}

static size_t strings_len(const uint8_t *p, size_t avail)
{
	size_t i;

	/* the string set ends at the first double NUL */
	for (i = 0; i + 1 < avail; i++)
		if (p[i] == 0 && p[i + 1] == 0)
			return i + 2;
	return 0;
}

/* Walk the structures: lengths, string sets, count, end-of-table. */
int hvm_smbios_verify(const void *table, size_t len, unsigned int nr_structures,
		      int type, unsigned int *count_of_type, const char **why)
{
	const uint8_t *p = table;
	size_t pos = 0;
	unsigned int count = 0, of_type = 0;
	int seen_end = 0;

	while (pos < len) {
		size_t flen, slen;

		if (seen_end)
			return fail(why,
				    "data after the end-of-table structure");
		if (len - pos < 4)
			return fail(why, "truncated structure header");
		flen = p[pos + 1];
		if (flen < 4 || flen > len - pos)
			return fail(why, "formatted length out of range");
		slen = strings_len(p + pos + flen, len - pos - flen);
		if (!slen)
			return fail(why, "unterminated string set");
		if (p[pos] == 127)
			seen_end = 1;
		if ((int)p[pos] == type)
			of_type++;
		count++;
		pos += flen + slen;
	}
	if (!seen_end)
		return fail(why, "no end-of-table structure");
	if (count != nr_structures)
		return fail(why, "structure count differs from the entry point");
	if (count_of_type)
		*count_of_type = of_type;
	return 0;
}

/* The `_MP_` floating pointer: signature, length, revision, checksum. */
int hvm_mp_verify_floating(const void *fp_, const char **why)
{
	const struct hvm_mp_floating *fp = fp_;

	if (!hvm_memeq(fp->signature, "_MP_", 4))
		return fail(why, "no _MP_ signature");
	if (fp->length != 1)
		return fail(why, "floating pointer length is not 1");
	if (fp->spec_rev != 1 && fp->spec_rev != 4)
		return fail(why, "unknown MP spec revision");
	if (hvm_sum8(fp, sizeof(*fp)))
		return fail(why, "floating pointer checksum");
	return 0;
}

/* The MP configuration table: checksums, entries, IDs, references. */
int hvm_mp_verify(const void *table, size_t len, struct hvm_mp_summary *sum,
		  const char **why)
{
	const struct hvm_mp_config *c = table;
	const uint8_t *p = table;
	struct hvm_mp_summary s = { 0 };
	uint8_t apic_used[32] = { 0 }, bus_used[32] = { 0 },
		ioapic_used[32] = { 0 };
	size_t pos, base;
	unsigned int n, last_type = 0;

	if (len < sizeof(*c))
		return fail(why, "shorter than the MP header");
	if (!hvm_memeq(c->signature, "PCMP", 4))
		return fail(why, "no PCMP signature");
	base = c->length;
	if (base < sizeof(*c) || base > len ||
	    (size_t)c->ext_length > len - base)
		return fail(why, "table length out of range");
	if (c->spec_rev != 1 && c->spec_rev != 4)
		return fail(why, "unknown spec revision");
	if (hvm_sum8(table, base))
		return fail(why, "base table checksum");
	if ((uint8_t)(hvm_sum8(p + base, c->ext_length) + c->ext_checksum))
		return fail(why, "extended table checksum");

	pos = sizeof(*c);
	for (n = 0; n < c->entry_count; n++) {
		uint8_t t;
		size_t elen;

		if (pos >= base)
			return fail(why, "entry_count runs past the table");
		t = p[pos];
		elen = t == HVM_MP_PROCESSOR ? 20 : 8;
		if (t > HVM_MP_LOCALINTR)
			return fail(why, "unknown entry type");
		if (elen > base - pos)
			return fail(why, "entry runs past the table");
		if (t < last_type)
			return fail(why, "entries not in type order");
		last_type = t;
		switch (t) {
		case HVM_MP_PROCESSOR: {
			const struct hvm_mp_processor *pr =
				(const void *)(p + pos);

			if (apic_used[pr->lapic_id >> 3] &
			    (1u << (pr->lapic_id & 7)))
				return fail(why, "duplicate APIC ID");
			apic_used[pr->lapic_id >> 3] |=
				(uint8_t)(1u << (pr->lapic_id & 7));
			if (pr->cpu_flags & 2)
				s.bsp_count++;
			s.processors++;
			break;
		}
		case HVM_MP_BUS: {
			const struct hvm_mp_bus *b = (const void *)(p + pos);

			if (bus_used[b->bus_id >> 3] & (1u << (b->bus_id & 7)))
				return fail(why, "duplicate bus ID");
			bus_used[b->bus_id >> 3] |=
				(uint8_t)(1u << (b->bus_id & 7));
			s.buses++;
			break;
		}
		case HVM_MP_IOAPIC: {
			const struct hvm_mp_ioapic *io = (const void *)(p + pos);

			if (apic_used[io->id >> 3] & (1u << (io->id & 7)))
				return fail(why,
					    "IOAPIC ID collides with another APIC");
			apic_used[io->id >> 3] |= (uint8_t)(1u << (io->id & 7));
			ioapic_used[io->id >> 3] |=
				(uint8_t)(1u << (io->id & 7));
			s.ioapics++;
			break;
		}
		default: {
			const struct hvm_mp_intr *in = (const void *)(p + pos);

			if (in->irq_type > 3)
				return fail(why, "bad interrupt type");
			if (!(bus_used[in->src_bus >> 3] &
			      (1u << (in->src_bus & 7))))
				return fail(why,
					    "interrupt names an undeclared bus");
			if (t == HVM_MP_IOINTR) {
				if (!(ioapic_used[in->dst_apic >> 3] &
				      (1u << (in->dst_apic & 7))))
					return fail(why,
						    "interrupt names an undeclared IOAPIC");
				s.iointrs++;
			} else {
				if (in->dst_intin > 1)
					return fail(why,
						    "local interrupt to LINT > 1");
				s.localintrs++;
			}
		}
		}
		pos += elen;
	}
	if (pos != base)
		return fail(why, "entries do not fill the base table");
	if (!s.processors || s.bsp_count != 1)
		return fail(why, "not exactly one BSP");
	if (sum)
		*sum = s;
	return 0;
}

/* The map: non-empty known-type entries, sorted, no overlap. */
int hvm_e820_verify(const struct hvm_e820_entry *e, size_t n, const char **why)
{
	size_t i;

	if (!n)
		return fail(why, "empty map");
	for (i = 0; i < n; i++) {
		if (!e[i].size)
			return fail(why, "empty entry");
		if (e[i].type < HVM_E820_RAM || e[i].type > HVM_E820_NVS)
			return fail(why, "unknown type");
		if (e[i].addr + e[i].size < e[i].addr)
			return fail(why, "entry wraps");
		if (i && e[i].addr < e[i - 1].addr + e[i - 1].size)
			return fail(why, i && e[i].addr < e[i - 1].addr
						 ? "not sorted"
						 : "overlap");
	}
	return 0;
}
