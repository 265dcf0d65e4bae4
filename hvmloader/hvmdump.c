/*
 * hvmdump - host side of hvmloader's test mode.
 *
 *   hvmdump split DUMP DIR          split a firmware dump into DIR/<NAME>.bin
 *   hvmdump build [-n VCPUS] [-m MIB] DIR
 *                                   build every table with the host library
 *                                   and write the files a dump would give
 *   hvmdump check [-n VCPUS] DIR    our checkers on DIR: ACPI checksums and
 *                                   links, SMBIOS vs its entry points, MP,
 *                                   E820, counts per vCPU
 *   hvmdump mpcheck IMAGE           find the MP floating pointer in a 1 MiB
 *                                   low-memory image as an OS does, check it
 *   hvmdump pcicheck DIR QMPLOG     compare the BARs the firmware assigned
 *                                   with QEMU's query-pci answer
 *   hvmdump summary DIR             human-readable table summary
 *   hvmdump hvminfo [-n VCPUS] [-m MIB] FILE
 *                                   write an hvm_info_table as Xen's domain
 *                                   builder would (for QEMU's loader device)
 *
 * Exit status: 0 all good, 1 a check failed, 2 usage or I/O error.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hvm.h"
#include "hvmdump.h"

#include <xen/hvm/e820.h>
#include <xen/hvm/hvm_info_table.h>

struct blob {
	uint8_t *data;
	size_t len;
	uint32_t addr;
};

static int failures;

/* Every blob load() reads lives until the command ends: blobs_free(). */
static uint8_t *blob_pool[256];
static size_t blob_count;

static void blobs_free(void)
{
	while (blob_count)
		free(blob_pool[--blob_count]);
}

static void bad(const char *what, const char *why)
{
	printf("FAIL %s: %s\n", what, why);
	failures++;
}

static void good(const char *what, const char *detail)
{
	printf("ok   %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
}

static int write_file(const char *dir, const char *name, const void *p,
		      size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.bin", dir, name);
	f = fopen(path, "wb");
	if (!f || (len && fwrite(p, 1, len, f) != len) || fclose(f)) {
		fprintf(stderr, "hvmdump: %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* read DIR/NAME.bin; the address comes from DIR/NAME.addr when present */
static int load(const char *dir, const char *name, struct blob *b)
{
	char path[4096];
	FILE *f;
	long len;

	memset(b, 0, sizeof(*b));
	snprintf(path, sizeof(path), "%s/%s.addr", dir, name);
	f = fopen(path, "r");
	if (f) {
		if (fscanf(f, "%" SCNx32, &b->addr) != 1)
			b->addr = 0;
		fclose(f);
	}
	snprintf(path, sizeof(path), "%s/%s.bin", dir, name);
	f = fopen(path, "rb");
	if (!f)
		return -1;
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	b->data = malloc(len > 0 ? (size_t)len : 1);
	if (!b->data ||
	    (len > 0 && fread(b->data, 1, (size_t)len, f) != (size_t)len)) {
		fclose(f);
		free(b->data);
		b->data = NULL;
		return -1;
	}
	b->len = (size_t)len;
	fclose(f);
	if (blob_count == sizeof(blob_pool) / sizeof(blob_pool[0])) {
		free(b->data);
		b->data = NULL;
		return -1;
	}
	blob_pool[blob_count++] = b->data;
	return 0;
}

static int save(const char *dir, const char *name, uint32_t addr, const void *p,
		size_t len)
{
	char path[4096];
	FILE *f;

	if (write_file(dir, name, p, len))
		return -1;
	snprintf(path, sizeof(path), "%s/%s.addr", dir, name);
	f = fopen(path, "w");
	if (!f)
		return -1;
	fprintf(f, "%08" PRIx32 "\n", addr);
	return fclose(f);
}

/* ---- split ---- */

static int cmd_split(const char *dump, const char *dir)
{
	FILE *f = fopen(dump, "rb");
	struct hvm_dump_rec r;
	int seen_end = 0, n = 0, nmem = 0, rc = 1;
	uint8_t *low = calloc(1, 0x100000), *data = NULL;

	if (!f || !low) {
		fprintf(stderr, "hvmdump: %s: %s\n", dump, strerror(errno));
		rc = 2;
		goto out;
	}
	mkdir(dir, 0755);
	while (fread(&r, sizeof(r), 1, f) == 1) {
		char name[9];

		if (memcmp(r.magic, "HVMD", 4)) {
			fprintf(stderr, "hvmdump: record %d: bad magic\n", n);
			goto out;
		}
		memcpy(name, r.name, 8);
		name[8] = 0;
		if (!strcmp(name, "END")) {
			seen_end = 1;
			break;
		}
		if (!name[0] || strchr(name, '/') || r.len > (64u << 20)) {
			fprintf(stderr, "hvmdump: record %d: bad header\n", n);
			goto out;
		}
		data = malloc(r.len ? r.len : 1);
		if (!data || (r.len && fread(data, r.len, 1, f) != 1)) {
			fprintf(stderr, "hvmdump: %s: truncated\n", name);
			goto out;
		}
		if (!strcmp(name, "MEM")) {
			if (r.addr > 0x100000 || r.len > 0x100000 - r.addr) {
				fprintf(stderr,
					"hvmdump: MEM record beyond 1 MiB\n");
				goto out;
			}
			memcpy(low + r.addr, data, r.len);
			nmem++;
		} else if (save(dir, name, r.addr, data, r.len)) {
			rc = 2;
			goto out;
		}
		printf("%-8s %08" PRIx32 " %7" PRIu32 "\n", name, r.addr, r.len);
		free(data);
		data = NULL;
		n++;
	}
	if (nmem && save(dir, "LOWMEM", 0, low, 0x100000)) {
		rc = 2;
		goto out;
	}
	if (!seen_end) {
		fprintf(stderr,
			"hvmdump: %s: no END record (firmware stopped early?)\n",
			dump);
		goto out;
	}
	rc = 0;
out:
	free(data);
	free(low);
	if (f)
		fclose(f);
	return rc;
}

/* ---- build ---- */

static int cmd_build(unsigned int vcpus, uint64_t mem_mb, const char *dir)
{
	struct hvm_config cfg;
	struct hvm_acpi_info ai;
	struct hvm_smbios_info si;
	struct hvm_e820_entry e820[32];
	uint8_t *low = calloc(1, 0x100000),
		*acpi = calloc(1, HVM_ACPI_AREA_SIZE);
	struct hvm_dump_config dc = { 0 };
	struct hvm_tables t = { 0 };
	int e820_len, mp_len, ret = 1;

	if (!low || !acpi) {
		ret = 2;
		goto out;
	}
	if (hvm_config_init(&cfg, vcpus, mem_mb << 20)) {
		fprintf(stderr, "hvmdump: bad vcpus/memory\n");
		ret = 2;
		goto out;
	}
	mkdir(dir, 0755);
	t.bios = low + HVM_BIOS_AREA_START;
	t.acpi = acpi;
	t.e820 = e820;
	t.e820_size = sizeof(e820);
	if (hvm_tables_build(&cfg, &t) < 0)
		goto out;
	ai = t.acpi_info;
	si = t.smbios;
	e820_len = t.e820_len;
	mp_len = t.mp_len;
#define T(name, a)                                                             \
	save(dir, name, a, acpi + ((a)-cfg.acpi_base),                         \
	     ((struct hvm_acpi_header *)(acpi + ((a)-cfg.acpi_base)))->length)
	save(dir, "RSDP", HVM_RSDP_ADDR, low + HVM_RSDP_ADDR, 36);
	T("RSDT", ai.rsdt);
	T("XSDT", ai.xsdt);
	T("FACP1", ai.fadt1);
	T("FACP", ai.fadt);
	save(dir, "FACS", ai.facs, acpi, 64);
	T("DSDT", ai.dsdt);
	T("SSDT", ai.ssdt);
	T("APIC", ai.madt);
	T("HPET", ai.hpet);
	T("WAET", ai.waet);
#undef T
	save(dir, "SMBIOS", HVM_SMBIOS_ADDR, low + HVM_SMBIOS_ADDR,
	     si.table_len);
	save(dir, "SM3EP", HVM_SMBIOS3_EP_ADDR, low + HVM_SMBIOS3_EP_ADDR, 24);
	save(dir, "SM21EP", HVM_SMBIOS21_EP_ADDR, low + HVM_SMBIOS21_EP_ADDR,
	     31);
	if (mp_len) {
		save(dir, "MP", HVM_MP_TABLE_ADDR, low + HVM_MP_TABLE_ADDR,
		     (size_t)mp_len);
		save(dir, "MPFP", HVM_MP_FLOAT_ADDR, low + HVM_MP_FLOAT_ADDR,
		     16);
	}
	save(dir, "E820", HVM_E820_PAGE + HVM_E820_OFFSET, e820,
	     (size_t)e820_len);
	dc.nr_vcpus = cfg.nr_vcpus;
	dc.apic_id_stride = cfg.apic_id_stride;
	dc.low_mem_end = cfg.low_mem_end;
	dc.high_mem_end = cfg.high_mem_end;
	dc.mmio_start = cfg.mmio_start;
	dc.mmio_end = cfg.mmio_end;
	dc.mmio64_start = cfg.mmio64_start;
	dc.mmio64_size = cfg.mmio64_size;
	dc.acpi_base = cfg.acpi_base;
	dc.source = 3;
	save(dir, "CONFIG", 0, &dc, sizeof(dc));
	save(dir, "BARS", 0, "", 0);
	if (save(dir, "LOWMEM", 0, low, 0x100000))
		goto out;
	ret = 0;
out:
	free(low);
	free(acpi);
	return ret;
}

/* ---- check ---- */

static void check_acpi(const char *dir, const char *name, struct blob *b)
{
	const char *why;
	char what[64];

	snprintf(what, sizeof(what), "ACPI %s", name);
	if (load(dir, name, b)) {
		bad(what, "missing");
		return;
	}
	if (hvm_acpi_verify(b->data, b->len, &why))
		bad(what, why);
	else if (((struct hvm_acpi_header *)b->data)->length != b->len)
		bad(what, "length differs from what was dumped");
	else
		good(what, NULL);
}

static void check_links(struct blob *t, int entry_size, struct blob *tables,
			int ntables, const char *what)
{
	size_t n = (t->len - 36) / (size_t)entry_size, i;
	int j;

	for (i = 0; i < n; i++) {
		uint64_t a = 0;

		memcpy(&a, t->data + 36 + i * (size_t)entry_size,
		       (size_t)entry_size);
		for (j = 0; j < ntables; j++)
			if (tables[j].data && tables[j].addr == a)
				break;
		if (j == ntables) {
			bad(what, "entry points at no dumped table");
			return;
		}
	}
	good(what, "every entry points at a dumped table");
}

static int cmd_check(const char *dir, unsigned int want_vcpus)
{
	static const char *const acpi_names[] = { "RSDT", "XSDT", "FACP1",
						  "FACP", "DSDT", "SSDT",
						  "APIC", "HPET", "WAET" };
	struct blob t[9], rsdp, facs, smb, ep3, ep21, mp, mpfp, e820, cfgb;
	struct hvm_dump_config dc = { 0 };
	const struct hvm_acpi_rsdp *r;
	const char *why;
	char detail[160];
	unsigned int i, n4 = 0;

	if (!load(dir, "CONFIG", &cfgb) && cfgb.len == sizeof(dc))
		memcpy(&dc, cfgb.data, sizeof(dc));
	if (!want_vcpus)
		want_vcpus = dc.nr_vcpus;

	for (i = 0; i < 9; i++)
		check_acpi(dir, acpi_names[i], &t[i]);
	if (load(dir, "RSDP", &rsdp) || rsdp.len != 36) {
		bad("RSDP", "missing");
	} else {
		r = (const void *)rsdp.data;
		if (memcmp(r->signature, "RSD PTR ", 8) || hvm_sum8(r, 20) ||
		    hvm_sum8(r, 36) || r->revision != 2)
			bad("RSDP", "signature, revision or checksums");
		else if (r->rsdt_address != t[0].addr ||
			 r->xsdt_address != t[1].addr)
			bad("RSDP",
			    "RSDT/XSDT addresses differ from the tables");
		else
			good("RSDP",
			     "checksums, revision 2, RSDT and XSDT addresses");
	}
	if (t[0].data)
		check_links(&t[0], 4, t, 9, "RSDT entries");
	if (t[1].data)
		check_links(&t[1], 8, t, 9, "XSDT entries");
	if (!load(dir, "FACS", &facs) && t[3].data) {
		const struct hvm_acpi_fadt *f = (const void *)t[3].data;
		const struct hvm_acpi_fadt *f1 = (const void *)t[2].data;

		if (facs.len != 64 || memcmp(facs.data, "FACS", 4) ||
		    (facs.addr & 63))
			bad("FACS", "signature, length or alignment");
		else if (f->x_firmware_ctrl != facs.addr ||
			 f->x_dsdt != t[4].addr ||
			 f1->firmware_ctrl != facs.addr || f1->dsdt != t[4].addr)
			bad("FADT", "FACS/DSDT pointers wrong");
		else if (f->header.revision < 4 || f1->header.revision != 1 ||
			 f->pm1a_evt_blk != HVM_PM1A_EVT_BLK ||
			 f->sci_int != HVM_SCI_IRQ ||
			 f->reset_reg.address != HVM_RESET_PORT ||
			 f->reset_value != HVM_RESET_VALUE || !f->pm_tmr_blk ||
			 !f->gpe0_blk)
			bad("FADT", "revisions or PM/SCI/reset fields");
		else
			good("FADT",
			     "rev 1 + rev 6, PM1a 0xB000, SCI 9, reset 0xCF9/6, FACS/DSDT");
	}
	if (t[6].data) {
		unsigned int lapics = 0, ioapics = 0, isos = 0, irq0 = 0;
		size_t pos = sizeof(struct hvm_acpi_madt);

		while (pos + 2 <= t[6].len && t[6].data[pos + 1] >= 2) {
			const uint8_t *e = t[6].data + pos;

			if (e[0] == HVM_MADT_LAPIC)
				lapics++;
			if (e[0] == HVM_MADT_IOAPIC)
				ioapics++;
			if (e[0] == HVM_MADT_ISO) {
				isos++;
				if (e[3] == 0 && e[4] == 2)
					irq0 = 1;
			}
			pos += e[1];
		}
		snprintf(detail, sizeof(detail),
			 "%u LAPIC, %u IOAPIC, %u overrides", lapics, ioapics,
			 isos);
		if (pos != t[6].len || lapics != want_vcpus || ioapics != 1 ||
		    !irq0)
			bad("MADT", detail);
		else
			good("MADT", detail);
	}

	if (load(dir, "SMBIOS", &smb) || load(dir, "SM3EP", &ep3) ||
	    load(dir, "SM21EP", &ep21)) {
		bad("SMBIOS", "missing");
	} else {
		const struct hvm_smbios3_ep *e3 = (const void *)ep3.data;
		const struct hvm_smbios21_ep *e2 = (const void *)ep21.data;

		if (ep3.len != 24 || memcmp(e3->anchor, "_SM3_", 5) ||
		    hvm_sum8(e3, 24) || e3->table_address != smb.addr ||
		    e3->max_table_size < smb.len)
			bad("SMBIOS _SM3_", "anchor, checksum, address or size");
		else
			good("SMBIOS _SM3_", "checksum, table address and size");
		if (ep21.len != 31 || memcmp(e2->anchor, "_SM_", 4) ||
		    hvm_sum8(e2, 31) || hvm_sum8(e2->intermediate_anchor, 15) ||
		    e2->table_address != smb.addr || e2->table_length != smb.len)
			bad("SMBIOS _SM_",
			    "anchor, checksums, address or length");
		else
			good("SMBIOS _SM_",
			     "checksums, table address and length");
		if (ep21.len == 31 &&
		    hvm_smbios_verify(smb.data, smb.len, e2->nr_structures, 4,
				      &n4, &why))
			bad("SMBIOS table", why);
		else if (n4 != want_vcpus)
			bad("SMBIOS table",
			    "type 4 count differs from the vCPU count");
		else {
			snprintf(detail, sizeof(detail),
				 "%u structures, %u processors, %zu bytes",
				 e2->nr_structures, n4, smb.len);
			good("SMBIOS table", detail);
		}
	}

	if (want_vcpus > 1) {
		struct hvm_mp_summary ms;

		if (load(dir, "MP", &mp) || load(dir, "MPFP", &mpfp)) {
			bad("MP", "missing with more than one vCPU");
		} else if (hvm_mp_verify_floating(mpfp.data, &why)) {
			bad("MP floating pointer", why);
		} else if (((const struct hvm_mp_floating *)mpfp.data)
				   ->config_table != mp.addr) {
			bad("MP floating pointer",
			    "does not point at the table");
		} else if (hvm_mp_verify(mp.data, mp.len, &ms, &why)) {
			bad("MP table", why);
		} else if (ms.processors != want_vcpus) {
			bad("MP table",
			    "processor count differs from the vCPU count");
		} else {
			snprintf(detail, sizeof(detail),
				 "%u processors, %u buses, %u IOAPIC, %u I/O + %u local interrupts",
				 ms.processors, ms.buses, ms.ioapics,
				 ms.iointrs, ms.localintrs);
			good("MP table", detail);
		}
	}

	if (load(dir, "E820", &e820)) {
		bad("E820", "missing");
	} else if (e820.len % 20 || hvm_e820_verify((const void *)e820.data,
						    e820.len / 20, &why)) {
		bad("E820", e820.len % 20 ? "size not a multiple of 20" : why);
	} else {
		snprintf(detail, sizeof(detail),
			 "%zu entries, sorted, no overlaps", e820.len / 20);
		good("E820", detail);
	}
	printf("%d failure(s)\n", failures);
	return failures ? 1 : 0;
}

/* ---- mpcheck: as an OS looks for the MP floating pointer ---- */

static int cmd_mpcheck(const char *image, unsigned int want_vcpus)
{
	static const uint32_t areas[][2] = {
		{ 0x9FC00, 0xA0000 },
		{ 0xF0000, 0x100000 },
		{ 0x9F000, 0x9FC00 },
	};
	struct blob img;
	struct hvm_mp_summary ms;
	const char *why;
	unsigned int a;
	uint32_t p, ebda;

	{
		FILE *f = fopen(image, "rb");

		if (!f) {
			fprintf(stderr, "hvmdump: %s: %s\n", image,
				strerror(errno));
			return 2;
		}
		img.data = calloc(1, 0x100000);
		img.len = img.data ? fread(img.data, 1, 0x100000, f) : 0;
		fclose(f);
		if (img.data)
			blob_pool[blob_count++] = img.data;
	}
	if (img.len < 0x100000) {
		fprintf(stderr, "hvmdump: %s: not a 1 MiB image\n", image);
		return 2;
	}
	/* the EBDA segment is at 0x40E */
	ebda = (uint32_t)(img.data[0x40E] | img.data[0x40F] << 8) << 4;
	for (a = 0; a < 4; a++) {
		uint32_t lo = a == 0 ? ebda : areas[a - 1][0];
		uint32_t hi = a == 0 ? ebda + 1024 : areas[a - 1][1];

		if (!lo || hi > 0x100000)
			continue;
		for (p = lo; p + 16 <= hi; p += 16) {
			const struct hvm_mp_floating *fp =
				(const void *)(img.data + p);
			uint32_t t;

			if (memcmp(fp->signature, "_MP_", 4))
				continue;
			if (hvm_mp_verify_floating(fp, &why)) {
				printf("FAIL MP floating pointer at 0x%05x: %s\n",
				       p, why);
				return 1;
			}
			t = fp->config_table;
			if (t < 0x400 ||
			    t >= 0x100000 - sizeof(struct hvm_mp_config)) {
				printf("FAIL MP table address 0x%x outside low memory\n",
				       t);
				return 1;
			}
			if (hvm_mp_verify(img.data + t, 0x100000 - t, &ms,
					  &why)) {
				printf("FAIL MP table at 0x%05x: %s\n", t, why);
				return 1;
			}
			if (want_vcpus && ms.processors != want_vcpus) {
				printf("FAIL MP table: %u processors, want %u\n",
				       ms.processors, want_vcpus);
				return 1;
			}
			printf("ok   MP pointer at 0x%05x, table at 0x%05x: %u processors, %u buses, "
			       "%u IOAPIC, %u I/O and %u local interrupt entries\n",
			       p, t, ms.processors, ms.buses, ms.ioapics,
			       ms.iointrs, ms.localintrs);
			return 0;
		}
	}
	printf("FAIL no MP floating pointer found\n");
	return 1;
}

/* ---- pcicheck ---- */

struct qbar {
	int slot, fn, bar;
	int io;
	uint64_t addr, size;
};

static json_t *find_query_pci(const char *log)
{
	FILE *f = fopen(log, "r");
	char *line = NULL;
	size_t cap = 0;
	json_t *found = NULL;

	if (!f)
		return NULL;
	/* QMP answers one JSON object per line */
	while (!found && getline(&line, &cap, f) > 0) {
		json_t *j = json_loads(line, 0, NULL), *ret;

		if (!j)
			continue;
		ret = json_object_get(j, "return");
		if (json_is_array(ret) && json_array_size(ret) > 0 &&
		    json_object_get(json_array_get(ret, 0), "devices"))
			found = json_incref(ret);
		json_decref(j);
	}
	free(line);
	fclose(f);
	return found;
}

static int cmd_pcicheck(const char *dir, const char *log)
{
	struct blob bars, cfgb;
	struct hvm_dump_config dc;
	const struct hvm_dump_bar *fb;
	struct qbar q[256];
	size_t nq = 0, nf, i, j, bi;
	json_t *ret = find_query_pci(log), *bus, *dev;
	char what[96];

	if (!ret) {
		printf("FAIL no query-pci answer in %s\n", log);
		return 1;
	}
	if (load(dir, "BARS", &bars) || load(dir, "CONFIG", &cfgb) ||
	    cfgb.len != sizeof(dc)) {
		printf("FAIL BARS/CONFIG missing from the dump\n");
		json_decref(ret);
		return 1;
	}
	memcpy(&dc, cfgb.data, sizeof(dc));
	fb = (const void *)bars.data;
	nf = bars.len / sizeof(*fb);

	json_array_foreach(ret, bi, bus)
	{
		json_array_foreach(json_object_get(bus, "devices"), i, dev)
		{
			json_t *reg;

			json_array_foreach(json_object_get(dev, "regions"), j,
					   reg)
			{
				if (nq == 256)
					break;
				q[nq].slot = (int)json_integer_value(
					json_object_get(dev, "slot"));
				q[nq].fn = (int)json_integer_value(
					json_object_get(dev, "function"));
				q[nq].bar = (int)json_integer_value(
					json_object_get(reg, "bar"));
				q[nq].io =
					!strcmp(json_string_value(
							json_object_get(reg,
									"type"))
							?: "",
						"io");
				q[nq].addr = (uint64_t)json_integer_value(
					json_object_get(reg, "address"));
				q[nq].size = (uint64_t)json_integer_value(
					json_object_get(reg, "size"));
				nq++;
			}
		}
	}
	/* every BAR QEMU reports was assigned by us, at the same place */
	for (i = 0; i < nq; i++) {
		snprintf(what, sizeof(what),
			 "00:%02x.%d BAR%d %s 0x%" PRIx64 "+0x%" PRIx64,
			 q[i].slot, q[i].fn, q[i].bar, q[i].io ? "io" : "mem",
			 q[i].addr, q[i].size);
		for (j = 0; j < nf; j++)
			if (fb[j].devfn == ((q[i].slot << 3) | q[i].fn) &&
			    fb[j].index == q[i].bar)
				break;
		if (j == nf) {
			bad(what,
			    "QEMU reports a BAR the firmware did not assign");
			continue;
		}
		if (fb[j].base != q[i].addr || fb[j].size != q[i].size) {
			bad(what, "differs from what the firmware assigned");
			continue;
		}
		if (q[i].io ? (q[i].addr < HVM_IO_START ||
			       q[i].addr + q[i].size > HVM_IO_END)
			    : !((q[i].addr >= dc.mmio_start &&
				 q[i].addr + q[i].size <= dc.mmio_end) ||
				(q[i].addr >= dc.mmio64_start &&
				 q[i].addr + q[i].size <=
					 dc.mmio64_start + dc.mmio64_size))) {
			bad(what, "outside the window");
			continue;
		}
		if (q[i].addr & (q[i].size - 1)) {
			bad(what, "not naturally aligned");
			continue;
		}
		for (j = 0; j < nq; j++)
			if (j != i && q[j].io == q[i].io &&
			    q[j].addr < q[i].addr + q[i].size &&
			    q[i].addr < q[j].addr + q[j].size)
				break;
		if (j != nq) {
			bad(what, "overlaps another BAR");
			continue;
		}
		good(what, "matches, inside the window, no overlap");
	}
	/* and nothing we assigned is missing from QEMU's view */
	for (j = 0; j < nf; j++) {
		for (i = 0; i < nq; i++)
			if (fb[j].devfn == ((q[i].slot << 3) | q[i].fn) &&
			    fb[j].index == q[i].bar)
				break;
		if (i == nq) {
			snprintf(what, sizeof(what), "00:%02x.%d BAR%d",
				 fb[j].devfn >> 3, fb[j].devfn & 7, fb[j].index);
			bad(what,
			    "assigned by the firmware but not reported by QEMU");
		}
	}
	if (!nq)
		bad("query-pci", "no BARs at all");
	json_decref(ret);
	printf("%zu BARs compared, %d failure(s)\n", nq, failures);
	return failures ? 1 : 0;
}

/* ---- hvminfo: what Xen's domain builder leaves at 0x9F800 ---- */

static int cmd_hvminfo(unsigned int vcpus, uint64_t mem_mb, const char *path)
{
	struct hvm_info_table t;
	uint64_t mem = mem_mb << 20,
		 low = mem < HVM_BELOW_4G_RAM_END ? mem : HVM_BELOW_4G_RAM_END;
	unsigned int i;
	FILE *f;

	if (vcpus < 1 || vcpus > HVM_MAX_VCPUS)
		return 2;
	memset(&t, 0, sizeof(t));
	memcpy(t.signature, "HVM INFO", 8);
	t.length = sizeof(t);
	t.apic_mode = 1;
	t.nr_vcpus = vcpus;
	t.low_mem_pgend = (uint32_t)(low >> 12);
	t.reserved_mem_pgstart = HVM_RESERVED_MEMBASE >> 12;
	t.high_mem_pgend =
		mem > low ? (uint32_t)(((1ull << 32) + mem - low) >> 12) : 0;
	for (i = 0; i < vcpus; i++)
		t.vcpu_online[i / 8] |= (uint8_t)(1u << (i % 8));
	t.checksum = hvm_checksum(&t, sizeof(t));
	f = fopen(path, "wb");
	if (!f || fwrite(&t, sizeof(t), 1, f) != 1 || fclose(f)) {
		fprintf(stderr, "hvmdump: %s: %s\n", path, strerror(errno));
		return 2;
	}
	return 0;
}

/* ---- summary ---- */

static const char *e820_type(uint32_t t)
{
	switch (t) {
	case HVM_E820_RAM:
		return "RAM";
	case HVM_E820_RESERVED:
		return "reserved";
	case HVM_E820_ACPI:
		return "ACPI reclaim";
	case HVM_E820_NVS:
		return "ACPI NVS";
	default:
		return "?";
	}
}

static void smbios_strings(const uint8_t *s, size_t flen, size_t avail, int idx,
			   char *out, size_t outlen)
{
	const char *p = (const char *)s + flen;
	int i;

	snprintf(out, outlen, "-");
	if (!idx)
		return;
	for (i = 1; i < idx && (size_t)(p - (const char *)s) < avail && *p; i++)
		p += strlen(p) + 1;
	if (*p)
		snprintf(out, outlen, "%s", p);
}

static int cmd_summary(const char *dir)
{
	static const char *const names[] = { "RSDP", "RSDT", "XSDT", "FACP1",
					     "FACP", "FACS", "DSDT", "SSDT",
					     "APIC", "HPET", "WAET" };
	struct blob b, cfgb, smb;
	struct hvm_dump_config dc = { 0 };
	size_t i, pos;

	if (!load(dir, "CONFIG", &cfgb) && cfgb.len == sizeof(dc))
		memcpy(&dc, cfgb.data, sizeof(dc));
	printf("Guest: %u vCPU(s), RAM below 4G to 0x%" PRIx64
	       ", above 4G to 0x%" PRIx64 ", config from %s\n",
	       dc.nr_vcpus, dc.low_mem_end, dc.high_mem_end,
	       dc.source == 1   ? "hvm_info_table"
	       : dc.source == 2 ? "CMOS/command line"
				: "host build");
	if (dc.boot_us)
		printf("Firmware: entry to tables written in %u us (guest TSC)\n",
		       dc.boot_us);
	printf("\nE820:\n");
	if (!load(dir, "E820", &b))
		for (i = 0; i + 20 <= b.len; i += 20) {
			const struct hvm_e820_entry *e =
				(const void *)(b.data + i);

			printf("  %016" PRIx64 "-%016" PRIx64 "  %s\n", e->addr,
			       e->addr + e->size - 1, e820_type(e->type));
		}
	printf("\nACPI tables:\n");
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (load(dir, names[i], &b))
			continue;
		if (!strcmp(names[i], "RSDP") || !strcmp(names[i], "FACS"))
			printf("  %-6s at 0x%08x  %5zu bytes\n", names[i],
			       b.addr, b.len);
		else
			printf("  %-6s at 0x%08x  %5zu bytes  rev %u  checksum %s\n",
			       names[i], b.addr, b.len, b.data[8],
			       hvm_sum8(b.data, b.len) ? "BAD" : "ok");
	}
	printf("\nSMBIOS structures:\n");
	if (!load(dir, "SMBIOS", &smb)) {
		unsigned int count[256] = { 0 };
		char s1[64], s2[64];

		for (pos = 0; pos + 4 <= smb.len;) {
			const uint8_t *s = smb.data + pos;
			size_t end = pos + s[1];

			if (s[1] < 4 || end > smb.len)
				break;
			if (s[0] == 1) {
				smbios_strings(s, s[1], smb.len - pos, s[4], s1,
					       sizeof(s1));
				smbios_strings(s, s[1], smb.len - pos, s[5], s2,
					       sizeof(s2));
				printf("  type 1: %s %s, UUID %02x%02x%02x%02x-...\n",
				       s1, s2, s[11], s[10], s[9], s[8]);
			}
			if (s[0] == 0) {
				smbios_strings(s, s[1], smb.len - pos, s[4], s1,
					       sizeof(s1));
				smbios_strings(s, s[1], smb.len - pos, s[5], s2,
					       sizeof(s2));
				printf("  type 0: BIOS %s %s\n", s1, s2);
			}
			count[s[0]]++;
			while (end + 1 < smb.len &&
			       (smb.data[end] || smb.data[end + 1]))
				end++;
			pos = end + 2;
		}
		printf("  counts:");
		for (i = 0; i < 256; i++)
			if (count[i])
				printf(" type%zu x%u", i, count[i]);
		printf("  (%zu bytes at 0x%x)\n", smb.len, smb.addr);
	}
	if (!load(dir, "MP", &b))
		printf("\nMP table: %zu bytes at 0x%x, %u entries\n", b.len,
		       b.addr,
		       ((const struct hvm_mp_config *)b.data)->entry_count);
	else
		printf("\nMP table: none (uniprocessor)\n");
	if (!load(dir, "BARS", &b) && b.len) {
		printf("\nPCI BARs assigned (hole 0x%08x-0x%08x):\n",
		       dc.mmio_start, dc.mmio_end - 1);
		for (i = 0; i + sizeof(struct hvm_dump_bar) <= b.len;
		     i += sizeof(struct hvm_dump_bar)) {
			const struct hvm_dump_bar *d =
				(const void *)(b.data + i);

			printf("  00:%02x.%u %04x:%04x BAR%u %-4s 0x%09" PRIx64
			       " size 0x%" PRIx64 "\n",
			       d->devfn >> 3, d->devfn & 7, d->vendor,
			       d->device, d->index,
			       d->flags & HVM_BAR_IO    ? "io"
			       : d->flags & HVM_BAR_ROM ? "rom"
			       : d->flags & HVM_BAR_64  ? "m64"
							: "mem",
			       d->base, d->size);
		}
	}
	return 0;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: hvmdump split DUMP DIR | build [-n VCPUS] [-m MIB] DIR |\n"
		"       check [-n VCPUS] DIR | mpcheck [-n VCPUS] IMAGE |\n"
		"       pcicheck DIR QMPLOG | summary DIR |\n"
		"       hvminfo [-n VCPUS] [-m MIB] FILE\n");
	exit(2);
}

int main(int argc, char **argv)
{
	unsigned int vcpus = 0;
	unsigned long long mem = 1024;
	const char *cmd;
	int c;

	if (argc < 2)
		usage();
	atexit(blobs_free);
	cmd = argv[1];
	optind = 2;
	while ((c = getopt(argc, argv, "n:m:")) != -1) {
		switch (c) {
		case 'n':
			vcpus = (unsigned int)strtoul(optarg, NULL, 0);
			break;
		case 'm':
			mem = strtoull(optarg, NULL, 0);
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (!strcmp(cmd, "split") && argc == 2)
		return cmd_split(argv[0], argv[1]);
	if (!strcmp(cmd, "build") && argc == 1)
		return cmd_build(vcpus ? vcpus : 1, mem, argv[0]);
	if (!strcmp(cmd, "check") && argc == 1)
		return cmd_check(argv[0], vcpus);
	if (!strcmp(cmd, "mpcheck") && argc == 1)
		return cmd_mpcheck(argv[0], vcpus);
	if (!strcmp(cmd, "pcicheck") && argc == 2)
		return cmd_pcicheck(argv[0], argv[1]);
	if (!strcmp(cmd, "hvminfo") && argc == 1)
		return cmd_hvminfo(vcpus ? vcpus : 1, mem, argv[0]);
	if (!strcmp(cmd, "summary") && argc == 1)
		return cmd_summary(argv[0]);
	usage();
	return 2;
}
