/*
 * mptable.c - Intel MultiProcessor Specification 1.4 tables, written only
 * for guests with more than one vCPU (a uniprocessor needs none).
 *
 * Configuration table entries, in the order the spec requires (by type):
 *   processor x N   LAPIC ID = vCPU * stride, vCPU 0 is the BSP
 *   bus 0 "PCI", bus 1 "ISA"
 *   IOAPIC          cfg->ioapic_id at 0xFEC00000
 *   I/O interrupts  8259 ExtINT -> INTIN0; ISA IRQ n -> INTIN n (IRQ0 ->
 *                   INTIN2; the PCI link IRQs level/active-low; the SCI
 *                   level/active-high); PCI slot 1..31 pin A..D -> INTIN of
 *                   its PIRQ link's IRQ
 *   local           ExtINT -> LINT0, NMI -> LINT1 of every LAPIC
 */
#include "hvm.h"

#define MP_ISA_BUS 1
#define MP_PCI_BUS 0

static uint16_t isa_irq_flags(const struct hvm_config *cfg, unsigned int irq)
{
	unsigned int i;

	if (irq == HVM_SCI_IRQ)
		return HVM_INTI_POLARITY_HIGH | HVM_INTI_TRIGGER_LEVEL;
	for (i = 0; i < HVM_NR_PCI_LINKS; i++)
		if (cfg->pci_link_irq[i] == irq)
			return HVM_INTI_POLARITY_LOW | HVM_INTI_TRIGGER_LEVEL;
	return 0; /* conforms to the bus: edge, active high */
}

/* The configuration table into `buf`; its length, -EINVAL (1 vCPU) or -ENOSPC. */
int hvm_mp_build(const struct hvm_config *cfg, void *buf, size_t len)
{
	struct hvm_mp_config *c = buf;
	struct hvm_mp_processor *pr;
	struct hvm_mp_bus *bus;
	struct hvm_mp_ioapic *io;
	struct hvm_mp_intr *in;
	unsigned int i, slot, pin, nr_intr;
	size_t size;

	if (cfg->nr_vcpus < 2 || cfg->nr_vcpus > HVM_MAX_VCPU)
		return -EINVAL;
	nr_intr = 1 + 15 + 31 * 4; /* ExtINT, ISA 0..15 but 2, PCI */
	size = sizeof(*c) + cfg->nr_vcpus * sizeof(*pr) + 2 * sizeof(*bus) +
	       sizeof(*io) + nr_intr * sizeof(*in) + 2 * sizeof(*in);
	if (size > len)
		return -ENOSPC;
	__builtin_memset(buf, 0, size);

	__builtin_memcpy(c->signature, "PCMP", 4);
	c->length = (uint16_t)size;
	c->spec_rev = 4;
	__builtin_memcpy(c->oem_id, "SPLDRV  ", 8);
	__builtin_memcpy(c->product_id, "HVM         ", 12);
	c->entry_count = (uint16_t)(cfg->nr_vcpus + 2 + 1 + nr_intr + 2);
	c->lapic_addr = HVM_LAPIC_ADDR;

	pr = (struct hvm_mp_processor *)(c + 1);
	for (i = 0; i < cfg->nr_vcpus; i++, pr++) {
		pr->type = HVM_MP_PROCESSOR;
		pr->lapic_id = (uint8_t)hvm_lapic_id(cfg, i);
		pr->lapic_version = cfg->lapic_version;
		pr->cpu_flags = i == 0 ? 0x3 : 0x1;
		pr->cpu_signature = cfg->cpu_signature;
		pr->feature_flags = cfg->cpu_features;
	}

	bus = (struct hvm_mp_bus *)pr;
	bus[0].type = HVM_MP_BUS;
	bus[0].bus_id = MP_PCI_BUS;
	__builtin_memcpy(bus[0].bus_type, "PCI   ", 6);
	bus[1].type = HVM_MP_BUS;
	bus[1].bus_id = MP_ISA_BUS;
	__builtin_memcpy(bus[1].bus_type, "ISA   ", 6);

	io = (struct hvm_mp_ioapic *)(bus + 2);
	io->type = HVM_MP_IOAPIC;
	io->id = cfg->ioapic_id;
	io->version = cfg->ioapic_version;
	io->flags = 1;
	io->address = HVM_IOAPIC_ADDR;

	in = (struct hvm_mp_intr *)(io + 1);
	in->type = HVM_MP_IOINTR;
	in->irq_type = HVM_MP_EXTINT;
	in->src_bus = MP_ISA_BUS;
	in->src_irq = 0;
	in->dst_apic = cfg->ioapic_id;
	in->dst_intin = 0;
	in++;
	for (i = 0; i < 16; i++) {
		if (i == 2)
			continue; /* cascade */
		in->type = HVM_MP_IOINTR;
		in->irq_type = HVM_MP_INT;
		in->flags = isa_irq_flags(cfg, i);
		in->src_bus = MP_ISA_BUS;
		in->src_irq = (uint8_t)i;
		in->dst_apic = cfg->ioapic_id;
		in->dst_intin = (uint8_t)(i == 0 ? 2 : i);
		in++;
	}
	for (slot = 1; slot < 32; slot++) {
		for (pin = 0; pin < 4; pin++, in++) {
			in->type = HVM_MP_IOINTR;
			in->irq_type = HVM_MP_INT;
			in->flags = 0; /* conforms to PCI: level, active low */
			in->src_bus = MP_PCI_BUS;
			in->src_irq = (uint8_t)((slot << 2) | pin);
			in->dst_apic = cfg->ioapic_id;
			in->dst_intin =
				cfg->pci_link_irq[HVM_PCI_LINK(slot, pin)];
		}
	}
	in->type = HVM_MP_LOCALINTR;
	in->irq_type = HVM_MP_EXTINT;
	in->src_bus = MP_ISA_BUS;
	in->dst_apic = 0xFF;
	in->dst_intin = 0;
	in++;
	in->type = HVM_MP_LOCALINTR;
	in->irq_type = HVM_MP_NMI;
	in->src_bus = MP_ISA_BUS;
	in->dst_apic = 0xFF;
	in->dst_intin = 1;

	c->checksum = hvm_checksum(c, size);
	return (int)size;
}

/* The 16-byte `_MP_` pointer to `table`; 16 or -ENOSPC. */
int hvm_mp_build_floating(void *buf, size_t len, uint32_t table)
{
	struct hvm_mp_floating *fp = buf;

	if (len < sizeof(*fp))
		return -ENOSPC;
	__builtin_memset(fp, 0, sizeof(*fp));
	__builtin_memcpy(fp->signature, "_MP_", 4);
	fp->config_table = table;
	fp->length = 1;
	fp->spec_rev = 4;
	fp->checksum = hvm_checksum(fp, sizeof(*fp));
	return sizeof(*fp);
}
