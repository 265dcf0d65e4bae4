/*
 * fw.h - what the freestanding image's files share: port and config-space
 * access, the debug console, the dump stream.
 */
#ifndef HVM_FW_H
#define HVM_FW_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define HVM_CONSOLE_PORT 0xE9  /* QEMU debugcon / Xen HVM debug port */
#define HVM_DUMP_PORT    0x7F0 /* second isa-debugcon in test mode */
#define HVM_EXIT_PORT    0xF4  /* isa-debug-exit */
#define HVM_EXIT_OK      0x10  /* QEMU exits with (v << 1) | 1 = 33 */
#define HVM_EXIT_FAIL    0x11  /* 35 */

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outw(uint16_t port, uint16_t v)
{
	__asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint16_t inw(uint16_t port)
{
	uint16_t v;

	__asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint32_t inl(uint16_t port)
{
	uint32_t v;

	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint32_t mmio_read32(uint32_t addr)
{
	return *(volatile uint32_t *)(uintptr_t)addr;
}

static inline void mmio_write32(uint32_t addr, uint32_t v)
{
	*(volatile uint32_t *)(uintptr_t)addr = v;
}

/* console.c */
void hvm_fw_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void hvm_fw_vprintf(const char *fmt, va_list ap);
void hvm_fw_exit(uint8_t code) __attribute__((noreturn));
void hvm_fw_halt(void) __attribute__((noreturn));

/* pci.c: config space through 0xCF8/0xCFC */
uint32_t hvm_pci_read32(unsigned int bdf, unsigned int reg);
uint16_t hvm_pci_read16(unsigned int bdf, unsigned int reg);
uint8_t hvm_pci_read8(unsigned int bdf, unsigned int reg);
void hvm_pci_write32(unsigned int bdf, unsigned int reg, uint32_t v);
void hvm_pci_write16(unsigned int bdf, unsigned int reg, uint16_t v);
void hvm_pci_write8(unsigned int bdf, unsigned int reg, uint8_t v);

struct hvm_config;
struct hvm_bar;

/* Enumerate bus 0, size every BAR; fills `bars`, returns how many. */
int hvm_fw_pci_scan(struct hvm_bar *bars, size_t max);
/* Program the assigned BARs, enable decoding, set interrupt lines. */
void hvm_fw_pci_program(const struct hvm_config *cfg,
			const struct hvm_bar *bars, size_t n);
/* PIIX3 checks and PIRQ/ELCR routing, PIIX4 PM base; 0 or -ENOENT. */
int hvm_fw_pci_setup_chipset(const struct hvm_config *cfg);
/* Make 0xC0000-0xFFFFF writable RAM on the i440FX (no-op elsewhere). */
void hvm_fw_unlock_bios_area(void);

/* dump.c: the test-mode stream, see hvmdump.h */
void hvm_fw_dump(const char *name, uint32_t addr, const void *data,
		 uint32_t len);

#define BDF(bus, dev, fn) (((bus) << 8) | ((dev) << 3) | (fn))

#endif /* HVM_FW_H */
