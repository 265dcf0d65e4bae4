/*
 * aml.c - the SSDT, generated as AML at boot because its contents depend
 * on the guest: one processor device per vCPU and the PCI windows.
 *
 *   Name (HVMA, <mmio_start>)       32-bit PCI window base
 *   Name (HVMB, <mmio_end - 1>)     32-bit PCI window limit
 *   Name (HVHA, <mmio64_start>)     64-bit window base
 *   Name (HVHL, <mmio64_size>)      64-bit window length (0: none)
 *   Scope (\_SB) {
 *     Device (C000) { Name (_HID, "ACPI0007")  Name (_UID, 0) }
 *     ...
 *   }
 *
 * dsdt.asl declares these names External and reads them in PCI0._CRS.
 *
 * Encoding (ACPI 6.3, chapter 20): a package length covers itself and the
 * body; it is 1 byte below 64, otherwise 2-4 bytes with the byte count in
 * bits 7:6 of the first byte and the low nibble there.  pkg_begin()
 * reserves 4 bytes, pkg_end() writes the shortest form and moves the body
 * down.
 */
#include "hvm.h"

#define AML_NAME_OP    0x08
#define AML_BYTE_PFX   0x0A
#define AML_WORD_PFX   0x0B
#define AML_DWORD_PFX  0x0C
#define AML_STRING_PFX 0x0D
#define AML_QWORD_PFX  0x0E
#define AML_SCOPE_OP   0x10
#define AML_EXT_PFX    0x5B
#define AML_DEVICE_OP  0x82
#define AML_ROOT_CHAR  0x5C

struct aml {
	uint8_t *buf;
	size_t len, pos;
	int err;
};

static void aml_bytes(struct aml *a, const void *p, size_t n)
{
	if (a->err || n > a->len - a->pos) {
		a->err = 1;
		return;
	}
	__builtin_memcpy(a->buf + a->pos, p, n);
	a->pos += n;
}

static void aml_byte(struct aml *a, uint8_t v)
{
	aml_bytes(a, &v, 1);
}

static void aml_int(struct aml *a, uint64_t v)
{
	unsigned int n, i;

	if (v <= 0xFF) {
		aml_byte(a, AML_BYTE_PFX);
		n = 1;
	} else if (v <= 0xFFFF) {
		aml_byte(a, AML_WORD_PFX);
		n = 2;
	} else if (v <= 0xFFFFFFFFu) {
		aml_byte(a, AML_DWORD_PFX);
		n = 4;
	} else {
		aml_byte(a, AML_QWORD_PFX);
		n = 8;
	}
	for (i = 0; i < n; i++)
		aml_byte(a, (uint8_t)(v >> (8 * i)));
}

static size_t aml_pkg_begin(struct aml *a)
{
	size_t start = a->pos;

	aml_bytes(a, "\0\0\0\0", 4);
	return start;
}

static void aml_pkg_end(struct aml *a, size_t start)
{
	size_t body, total, n, i;

	if (a->err)
		return;
	body = a->pos - start - 4;
	if (body + 1 < 64)
		n = 1;
	else if (body + 2 < (1u << 12))
		n = 2;
	else if (body + 3 < (1u << 20))
		n = 3;
	else
		n = 4;
	total = body + n;
	if (n == 1) {
		a->buf[start] = (uint8_t)total;
	} else {
		a->buf[start] = (uint8_t)(((n - 1) << 6) | (total & 0xF));
		for (i = 1; i < n; i++)
			a->buf[start + i] =
				(uint8_t)(total >> (4 + 8 * (i - 1)));
	}
	__builtin_memmove(a->buf + start + n, a->buf + start + 4, body);
	a->pos -= 4 - n;
}

static void aml_name_int(struct aml *a, const char *seg, uint64_t v)
{
	aml_byte(a, AML_NAME_OP);
	aml_bytes(a, seg, 4);
	aml_int(a, v);
}

static char hexdig(unsigned int v)
{
	return (char)(v < 10 ? '0' + v : 'A' + v - 10);
}

/* The SSDT described above into `buf`; its length or -ENOSPC. */
int hvm_ssdt_build(const struct hvm_config *cfg, void *buf, size_t len)
{
	struct aml a = { .buf = buf, .len = len, .pos = 0, .err = 0 };
	struct hvm_acpi_header *h = buf;
	unsigned int i;
	size_t scope, dev;

	if (len < sizeof(*h))
		return -ENOSPC;
	__builtin_memset(h, 0, sizeof(*h));
	a.pos = sizeof(*h);

	aml_name_int(&a, "HVMA", cfg->mmio_start);
	aml_name_int(&a, "HVMB", (uint64_t)cfg->mmio_end - 1);
	aml_name_int(&a, "HVHA", cfg->mmio64_start);
	aml_name_int(&a, "HVHL", cfg->mmio64_size);

	aml_byte(&a, AML_SCOPE_OP);
	scope = aml_pkg_begin(&a);
	aml_byte(&a, AML_ROOT_CHAR);
	aml_bytes(&a, "_SB_", 4);
	for (i = 0; i < cfg->nr_vcpus; i++) {
		char name[4] = { 'C', hexdig((i >> 8) & 0xF),
				 hexdig((i >> 4) & 0xF), hexdig(i & 0xF) };

		aml_byte(&a, AML_EXT_PFX);
		aml_byte(&a, AML_DEVICE_OP);
		dev = aml_pkg_begin(&a);
		aml_bytes(&a, name, 4);
		aml_byte(&a, AML_NAME_OP);
		aml_bytes(&a, "_HID", 4);
		aml_byte(&a, AML_STRING_PFX);
		aml_bytes(&a, "ACPI0007", 9);
		aml_name_int(&a, "_UID", i);
		aml_pkg_end(&a, dev);
	}
	aml_pkg_end(&a, scope);
	if (a.err)
		return -ENOSPC;

	__builtin_memcpy(h->signature, "SSDT", 4);
	h->length = (uint32_t)a.pos;
	h->revision = 2;
	__builtin_memcpy(h->oem_id, "SPLDRV", 6);
	__builtin_memcpy(h->oem_table_id, "HVMCPUS ", 8);
	h->oem_revision = 1;
	__builtin_memcpy(h->creator_id, "SPDR", 4);
	h->creator_revision = 1;
	h->checksum = hvm_checksum(h, a.pos);
	return (int)a.pos;
}
