/*
 * pci.c - PCI bus 0 through configuration mechanism #1 (0xCF8/0xCFC):
 * chipset set-up (i440FX PAM, PIIX3 PIRQ routing and ELCR, PIIX4 PM base),
 * BAR sizing and programming.  Placement itself is hvm_pci_allocate().
 */
#include "fw.h"
#include "../hvm.h"

#define PCI_CONF_ADDR 0xCF8
#define PCI_CONF_DATA 0xCFC

#define PCI_VENDOR_ID   0x00
#define PCI_DEVICE_ID   0x02
#define PCI_COMMAND     0x04
#define PCI_CLASS       0x0A
#define PCI_HEADER_TYPE 0x0E
#define PCI_BAR0        0x10
#define PCI_ROM         0x30
#define PCI_INT_LINE    0x3C
#define PCI_INT_PIN     0x3D

#define PCI_CMD_IO     0x1
#define PCI_CMD_MEM    0x2
#define PCI_CMD_MASTER 0x4

#define I440FX_BDF      BDF(0, 0, 0)
#define PIIX3_BDF       BDF(0, 1, 0)
#define PIIX4_PM_BDF    BDF(0, 1, 3)
#define PIIX_PIRQ_ROUTE 0x60 /* PIRQA..D route control */
#define PIIX4_PMBA      0x40
#define PIIX4_PMREGMISC 0x80
#define I440FX_PAM0     0x59
#define ELCR1           0x4D0
#define ELCR2           0x4D1

static void conf_addr(unsigned int bdf, unsigned int reg)
{
	outl(PCI_CONF_ADDR, 0x80000000u | (bdf << 8) | (reg & 0xFC));
}

/* Configuration read/write of bus 0 function `bdf` (mechanism #1). */
uint32_t hvm_pci_read32(unsigned int bdf, unsigned int reg)
{
	conf_addr(bdf, reg);
	return inl(PCI_CONF_DATA);
}

uint16_t hvm_pci_read16(unsigned int bdf, unsigned int reg)
{
	conf_addr(bdf, reg);
	return inw((uint16_t)(PCI_CONF_DATA + (reg & 2)));
}

uint8_t hvm_pci_read8(unsigned int bdf, unsigned int reg)
{
	conf_addr(bdf, reg);
	return inb((uint16_t)(PCI_CONF_DATA + (reg & 3)));
}

void hvm_pci_write32(unsigned int bdf, unsigned int reg, uint32_t v)
{
	conf_addr(bdf, reg);
	outl(PCI_CONF_DATA, v);
}

void hvm_pci_write16(unsigned int bdf, unsigned int reg, uint16_t v)
{
	conf_addr(bdf, reg);
	outw((uint16_t)(PCI_CONF_DATA + (reg & 2)), v);
}

void hvm_pci_write8(unsigned int bdf, unsigned int reg, uint8_t v)
{
	conf_addr(bdf, reg);
	outb((uint16_t)(PCI_CONF_DATA + (reg & 3)), v);
}

/* i440FX PAM: 0xC0000-0xFFFFF read/write RAM; no-op on other chipsets. */
void hvm_fw_unlock_bios_area(void)
{
	unsigned int i;

	if (hvm_pci_read16(I440FX_BDF, PCI_VENDOR_ID) != 0x8086 ||
	    hvm_pci_read16(I440FX_BDF, PCI_DEVICE_ID) != 0x1237)
		return;
	/* PAM0 bits 5:4: 0xF0000-0xFFFFF; PAM1-6: 0xC0000-0xEFFFF; 3 = RAM R/W */
	hvm_pci_write8(I440FX_BDF, I440FX_PAM0,
		       (uint8_t)(hvm_pci_read8(I440FX_BDF, I440FX_PAM0) | 0x30));
	for (i = 1; i <= 6; i++)
		hvm_pci_write8(I440FX_BDF, I440FX_PAM0 + i, 0x33);
}

/* PIIX3 PIRQ routing and ELCR, PIIX4 PM block; 0 or -ENOENT without a PIIX3. */
int hvm_fw_pci_setup_chipset(const struct hvm_config *cfg)
{
	uint16_t elcr = 1u << HVM_SCI_IRQ;
	unsigned int i;

	if (hvm_pci_read16(PIIX3_BDF, PCI_VENDOR_ID) != 0x8086 ||
	    hvm_pci_read16(PIIX3_BDF, PCI_DEVICE_ID) != 0x7000) {
		hvm_fw_printf("hvmloader: no PIIX3 at 00:01.0 (found %04x:%04x)\n",
			      hvm_pci_read16(PIIX3_BDF, PCI_VENDOR_ID),
			      hvm_pci_read16(PIIX3_BDF, PCI_DEVICE_ID));
		return -ENOENT;
	}
	for (i = 0; i < HVM_NR_PCI_LINKS; i++) {
		hvm_pci_write8(PIIX3_BDF, PIIX_PIRQ_ROUTE + i,
			       cfg->pci_link_irq[i]);
		elcr |= (uint16_t)(1u << cfg->pci_link_irq[i]);
	}
	/* level-triggered: the PCI link IRQs and the SCI */
	outb(ELCR1, (uint8_t)(elcr & 0xF8));        /* IRQ 0-2 must stay edge */
	outb(ELCR2, (uint8_t)((elcr >> 8) & 0xDE)); /* nor IRQ 8, 13 */
	hvm_fw_printf("hvmloader: PIIX3: PIRQ A-D -> IRQ %u %u %u %u, ELCR %02x %02x\n",
		      cfg->pci_link_irq[0], cfg->pci_link_irq[1],
		      cfg->pci_link_irq[2], cfg->pci_link_irq[3], inb(ELCR1),
		      inb(ELCR2));

	if (hvm_pci_read16(PIIX4_PM_BDF, PCI_VENDOR_ID) == 0x8086 &&
	    hvm_pci_read16(PIIX4_PM_BDF, PCI_DEVICE_ID) == 0x7113) {
		hvm_pci_write32(PIIX4_PM_BDF, PIIX4_PMBA, HVM_PM1A_EVT_BLK | 1);
		hvm_pci_write8(PIIX4_PM_BDF, PIIX4_PMREGMISC,
			       (uint8_t)(hvm_pci_read8(PIIX4_PM_BDF,
						       PIIX4_PMREGMISC) |
					 1));
		outw(HVM_PM1A_CNT_BLK,
		     (uint16_t)(inw(HVM_PM1A_CNT_BLK) | 1)); /* SCI_EN */
		hvm_fw_printf("hvmloader: PIIX4 PM at 0x%x, SCI_EN %u\n",
			      HVM_PM1A_EVT_BLK, inw(HVM_PM1A_CNT_BLK) & 1);
	}
	return 0;
}

static int size_bar(unsigned int bdf, unsigned int i, struct hvm_bar *b)
{
	unsigned int reg = PCI_BAR0 + 4 * i;
	uint32_t orig = hvm_pci_read32(bdf, reg), lo, hi = 0xFFFFFFFFu;
	uint64_t mask;

	hvm_pci_write32(bdf, reg, 0xFFFFFFFFu);
	lo = hvm_pci_read32(bdf, reg);
	hvm_pci_write32(bdf, reg, orig);
	if (!lo)
		return 0;
	b->index = (uint8_t)i;
	if (orig & 1) {
		b->flags = HVM_BAR_IO;
		b->size = (uint32_t) ~((lo & ~3u) | 0xFFFF0000u) + 1;
		return 1;
	}
	b->flags = (lo & 8) ? HVM_BAR_PREF : 0;
	if (((lo >> 1) & 3) == 2 && i < 5) {
		uint32_t orig_hi = hvm_pci_read32(bdf, reg + 4);

		hvm_pci_write32(bdf, reg + 4, 0xFFFFFFFFu);
		hi = hvm_pci_read32(bdf, reg + 4);
		hvm_pci_write32(bdf, reg + 4, orig_hi);
		b->flags |= HVM_BAR_64;
	}
	mask = ((uint64_t)hi << 32) | (lo & ~0xFu);
	b->size = ~mask + 1;
	return (b->flags & HVM_BAR_64) ? 2 : 1;
}

static void scan_fn(unsigned int bdf, struct hvm_bar *bars, size_t max,
		    size_t *n)
{
	uint16_t cmd = hvm_pci_read16(bdf, PCI_COMMAND);
	unsigned int i;
	uint32_t rom;

	if ((hvm_pci_read8(bdf, PCI_HEADER_TYPE) & 0x7F) != 0)
		return; /* bridges: bus 0 only */
	/* no decoding while the BARs hold all-ones */
	hvm_pci_write16(bdf, PCI_COMMAND,
			(uint16_t)(cmd & ~(PCI_CMD_IO | PCI_CMD_MEM)));
	for (i = 0; i < 6 && *n < max;) {
		struct hvm_bar *b = &bars[*n];
		int used;

		b->bus = 0;
		b->devfn = (uint8_t)bdf;
		used = size_bar(bdf, i, b);
		if (used && b->size)
			(*n)++;
		i += used ? (unsigned int)used : 1;
	}
	hvm_pci_write32(bdf, PCI_ROM, 0xFFFFF800u);
	rom = hvm_pci_read32(bdf, PCI_ROM) & 0xFFFFF800u;
	hvm_pci_write32(bdf, PCI_ROM, 0);
	if (rom && *n < max) {
		struct hvm_bar *b = &bars[(*n)++];

		b->bus = 0;
		b->devfn = (uint8_t)bdf;
		b->index = 6;
		b->flags = HVM_BAR_ROM;
		b->size = (uint32_t)(~rom + 1);
	}
	hvm_pci_write16(bdf, PCI_COMMAND, cmd);
}

/* Size every BAR and ROM of bus 0 into `bars`; how many were found. */
int hvm_fw_pci_scan(struct hvm_bar *bars, size_t max)
{
	unsigned int dev, fn;
	size_t n = 0;

	for (dev = 0; dev < 32; dev++) {
		for (fn = 0; fn < 8; fn++) {
			unsigned int bdf = BDF(0, dev, fn);
			uint16_t vendor = hvm_pci_read16(bdf, PCI_VENDOR_ID);

			if (vendor == 0xFFFF) {
				if (fn == 0)
					break;
				continue;
			}
			hvm_fw_printf("hvmloader: pci 00:%02x.%u %04x:%04x class %04x\n",
				      dev, fn, vendor,
				      hvm_pci_read16(bdf, PCI_DEVICE_ID),
				      hvm_pci_read16(bdf, PCI_CLASS));
			scan_fn(bdf, bars, max, &n);
			if (fn == 0 &&
			    !(hvm_pci_read8(bdf, PCI_HEADER_TYPE) & 0x80))
				break;
		}
	}
	return (int)n;
}

/* Write the placed BARs, enable decoding, set interrupt lines. */
void hvm_fw_pci_program(const struct hvm_config *cfg,
			const struct hvm_bar *bars, size_t n)
{
	unsigned int dev, fn;
	size_t i;

	for (i = 0; i < n; i++) {
		const struct hvm_bar *b = &bars[i];

		if (b->flags & HVM_BAR_ROM) {
			hvm_pci_write32(b->devfn, PCI_ROM,
					(uint32_t)b->base | 1);
			continue;
		}
		hvm_pci_write32(b->devfn, PCI_BAR0 + 4 * b->index,
				(uint32_t)b->base |
					(hvm_pci_read32(b->devfn,
							PCI_BAR0 + 4 * b->index) &
					 ((b->flags & HVM_BAR_IO) ? 0x3u
								  : 0xFu)));
		if (b->flags & HVM_BAR_64)
			hvm_pci_write32(b->devfn, PCI_BAR0 + 4 * b->index + 4,
					(uint32_t)(b->base >> 32));
	}
	/* enable decoding of what each function has; route its INTx */
	for (dev = 0; dev < 32; dev++) {
		for (fn = 0; fn < 8; fn++) {
			unsigned int bdf = BDF(0, dev, fn);
			uint16_t cmd;
			uint8_t pin;

			if (hvm_pci_read16(bdf, PCI_VENDOR_ID) == 0xFFFF) {
				if (fn == 0)
					break;
				continue;
			}
			cmd = hvm_pci_read16(bdf, PCI_COMMAND);
			for (i = 0; i < n; i++) {
				if (bars[i].devfn != bdf)
					continue;
				cmd |= (bars[i].flags & HVM_BAR_IO)
					       ? PCI_CMD_IO
					       : PCI_CMD_MEM;
				cmd |= PCI_CMD_MASTER;
			}
			hvm_pci_write16(bdf, PCI_COMMAND, cmd);
			pin = hvm_pci_read8(bdf, PCI_INT_PIN);
			if (pin >= 1 && pin <= 4 && dev > 0)
				hvm_pci_write8(bdf, PCI_INT_LINE,
					       cfg->pci_link_irq
						       [HVM_PCI_LINK(dev,
								     pin - 1)]);
			if (fn == 0 &&
			    !(hvm_pci_read8(bdf, PCI_HEADER_TYPE) & 0x80))
				break;
		}
	}
}
