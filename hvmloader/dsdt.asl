/*
 * dsdt.asl - the guest's DSDT, compiled by iasl at build time.
 *
 * What depends on the guest (vCPUs, the PCI windows) lives in the SSDT
 * that hvmloader generates at boot (aml.c): processor devices \_SB.Cxxx
 * and the names \HVMA/\HVMB (32-bit window) and \HVHA/\HVHL (64-bit
 * window) read by PCI0._CRS below.
 *
 * Interrupt routing matches what the firmware programs into the PIIX3:
 * device `slot`, pin INTA..INTD uses PIRQ link (slot - 1 + pin) & 3, and
 * links A..D are routed to ISA IRQs 5, 10, 11, 5 (level, active low; see
 * HVM_PCI_LINK and hvm_config_init()).  _PRT gives those IRQs directly
 * as GSIs (source 0), valid in both PIC and APIC mode because the IOAPIC
 * maps GSI n to ISA IRQ n for n < 16.
 */
DefinitionBlock ("", "DSDT", 2, "SPLDRV", "HVM     ", 1)
{
    External (\HVMA, IntObj)
    External (\HVMB, IntObj)
    External (\HVHA, IntObj)
    External (\HVHL, IntObj)

    Name (PICD, Zero)
    Method (_PIC, 1, NotSerialized)
    {
        PICD = Arg0
    }

    /* SLP_TYP values of the PIIX4 PM (PM1a_CNT at 0xB004) */
    Name (_S3, Package (0x04) { One, One, Zero, Zero })
    Name (_S4, Package (0x04) { 0x02, 0x02, Zero, Zero })
    Name (_S5, Package (0x04) { Zero, Zero, Zero, Zero })

    Scope (\_SB)
    {
        Device (HPET)
        {
            Name (_HID, EisaId ("PNP0103"))
            Name (_UID, Zero)
            Name (_CRS, ResourceTemplate ()
            {
                Memory32Fixed (ReadOnly, 0xFED00000, 0x00000400)
            })
        }

        Device (PCI0)
        {
            Name (_HID, EisaId ("PNP0A03"))
            Name (_UID, Zero)
            Name (_BBN, Zero)

            Name (CRS0, ResourceTemplate ()
            {
                WordBusNumber (ResourceProducer, MinFixed, MaxFixed, PosDecode,
                    0x0000, 0x0000, 0x00FF, 0x0000, 0x0100)
                IO (Decode16, 0x0CF8, 0x0CF8, 0x01, 0x08)
                WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange,
                    0x0000, 0x0000, 0x0CF7, 0x0000, 0x0CF8)
                WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange,
                    0x0000, 0x0D00, 0xFFFF, 0x0000, 0xF300)
                DWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed, Cacheable,
                    ReadWrite, 0x00000000, 0x000A0000, 0x000BFFFF, 0x00000000, 0x00020000)
                DWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed, NonCacheable,
                    ReadWrite, 0x00000000, 0xF0000000, 0xFBFFFFFF, 0x00000000, 0x0C000000,
                    ,, PW32, AddressRangeMemory, TypeStatic)
            })
            Name (CRS6, ResourceTemplate ()
            {
                QWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed, Cacheable,
                    ReadWrite, 0x0000000000000000, 0x0000000100000000, 0x00000001FFFFFFFF,
                    0x0000000000000000, 0x0000000100000000,
                    ,, PW64, AddressRangeMemory, TypeStatic)
            })

            Method (_CRS, 0, Serialized)
            {
                CreateDWordField (CRS0, \_SB.PCI0.PW32._MIN, M32N)
                CreateDWordField (CRS0, \_SB.PCI0.PW32._MAX, M32X)
                CreateDWordField (CRS0, \_SB.PCI0.PW32._LEN, M32L)
                M32N = HVMA
                M32X = HVMB
                M32L = (HVMB - HVMA) + One
                If (HVHL == Zero)
                {
                    Return (CRS0)
                }
                CreateQWordField (CRS6, \_SB.PCI0.PW64._MIN, M64N)
                CreateQWordField (CRS6, \_SB.PCI0.PW64._MAX, M64X)
                CreateQWordField (CRS6, \_SB.PCI0.PW64._LEN, M64L)
                M64N = HVHA
                M64L = HVHL
                M64X = (HVHA + HVHL) - One
                Return (ConcatenateResTemplate (CRS0, CRS6))
            }

            /* slot, pin -> GSI: {5, 10, 11, 5}[(slot - 1 + pin) & 3] */
            Name (_PRT, Package ()
            {
                Package (0x04) { 0x0001FFFF, 0x00, Zero, 0x05 },
                Package (0x04) { 0x0001FFFF, 0x01, Zero, 0x0A },
                Package (0x04) { 0x0001FFFF, 0x02, Zero, 0x0B },
                Package (0x04) { 0x0001FFFF, 0x03, Zero, 0x05 },
                Package (0x04) { 0x0002FFFF, 0x00, Zero, 0x0A },
                Package (0x04) { 0x0002FFFF, 0x01, Zero, 0x0B },
                Package (0x04) { 0x0002FFFF, 0x02, Zero, 0x05 },
                Package (0x04) { 0x0002FFFF, 0x03, Zero, 0x05 },
                Package (0x04) { 0x0003FFFF, 0x00, Zero, 0x0B },
                Package (0x04) { 0x0003FFFF, 0x01, Zero, 0x05 },
                Package (0x04) { 0x0003FFFF, 0x02, Zero, 0x05 },
                Package (0x04) { 0x0003FFFF, 0x03, Zero, 0x0A },
                Package (0x04) { 0x0004FFFF, 0x00, Zero, 0x05 },
                Package (0x04) { 0x0004FFFF, 0x01, Zero, 0x05 },
                Package (0x04) { 0x0004FFFF, 0x02, Zero, 0x0A },
                Package (0x04) { 0x0004FFFF, 0x03, Zero, 0x0B },
                Package (0x04) { 0x0005FFFF, 0x00, Zero, 0x05 },
                Package (0x04) { 0x0005FFFF, 0x01, Zero, 0x0A },
                Package (0x04) { 0x0005FFFF, 0x02, Zero, 0x0B },
                Package (0x04) { 0x0005FFFF, 0x03, Zero, 0x05 },
                Package (0x04) { 0x0006FFFF, 0x00, Zero, 0x0A },
                Package (0x04) { 0x0006FFFF, 0x01, Zero, 0x0B },
                Package (0x04) { 0x0006FFFF, 0x02, Zero, 0x05 },
                Package (0x04) { 0x0006FFFF, 0x03, Zero, 0x05 },
                Package (0x04) { 0x0007FFFF, 0x00, Zero, 0x0B },
                Package (0x04) { 0x0007FFFF, 0x01, Zero, 0x05 },
                Package (0x04) { 0x0007FFFF, 0x02, Zero, 0x05 },
                Package (0x04) { 0x0007FFFF, 0x03, Zero, 0x0A },
                Package (0x04) { 0x0008FFFF, 0x00, Zero, 0x05 },
                Package (0x04) { 0x0008FFFF, 0x01, Zero, 0x05 },
                Package (0x04) { 0x0008FFFF, 0x02, Zero, 0x0A },
                Package (0x04) { 0x0008FFFF, 0x03, Zero, 0x0B },
                Package (0x04) { 0x0009FFFF, 0x00, Zero, 0x05 },
                Package (0x04) { 0x0009FFFF, 0x01, Zero, 0x0A },
                Package (0x04) { 0x0009FFFF, 0x02, Zero, 0x0B },
                Package (0x04) { 0x0009FFFF, 0x03, Zero, 0x05 },
                Package (0x04) { 0x000AFFFF, 0x00, Zero, 0x0A },
                Package (0x04) { 0x000AFFFF, 0x01, Zero, 0x0B },
                Package (0x04) { 0x000AFFFF, 0x02, Zero, 0x05 },
                Package (0x04) { 0x000AFFFF, 0x03, Zero, 0x05 },
                Package (0x04) { 0x000BFFFF, 0x00, Zero, 0x0B },
                Package (0x04) { 0x000BFFFF, 0x01, Zero, 0x05 },
                Package (0x04) { 0x000BFFFF, 0x02, Zero, 0x05 },
                Package (0x04) { 0x000BFFFF, 0x03, Zero, 0x0A },
                Package (0x04) { 0x000CFFFF, 0x00, Zero, 0x05 },
                Package (0x04) { 0x000CFFFF, 0x01, Zero, 0x05 },
                Package (0x04) { 0x000CFFFF, 0x02, Zero, 0x0A },
                Package (0x04) { 0x000CFFFF, 0x03, Zero, 0x0B },
                Package (0x04) { 0x000DFFFF, 0x00, Zero, 0x05 },
                Package (0x04) { 0x000DFFFF, 0x01, Zero, 0x0A },
                Package (0x04) { 0x000DFFFF, 0x02, Zero, 0x0B },
                Package (0x04) { 0x000DFFFF, 0x03, Zero, 0x05 },
                Package (0x04) { 0x000EFFFF, 0x00, Zero, 0x0A },
                Package (0x04) { 0x000EFFFF, 0x01, Zero, 0x0B },
                Package (0x04) { 0x000EFFFF, 0x02, Zero, 0x05 },
                Package (0x04) { 0x000EFFFF, 0x03, Zero, 0x05 },
                Package (0x04) { 0x000FFFFF, 0x00, Zero, 0x0B },
                Package (0x04) { 0x000FFFFF, 0x01, Zero, 0x05 },
                Package (0x04) { 0x000FFFFF, 0x02, Zero, 0x05 },
                Package (0x04) { 0x000FFFFF, 0x03, Zero, 0x0A },
                Package (0x04) { 0x0010FFFF, 0x00, Zero, 0x05 },
                Package (0x04) { 0x0010FFFF, 0x01, Zero, 0x05 },
                Package (0x04) { 0x0010FFFF, 0x02, Zero, 0x0A },
                Package (0x04) { 0x0010FFFF, 0x03, Zero, 0x0B },
                Package (0x04) { 0x0011FFFF, 0x00, Zero, 0x05 },
                Package (0x04) { 0x0011FFFF, 0x01, Zero, 0x0A },
                Package (0x04) { 0x0011FFFF, 0x02, Zero, 0x0B },
                Package (0x04) { 0x0011FFFF, 0x03, Zero, 0x05 },
                Package (0x04) { 0x0012FFFF, 0x00, Zero, 0x0A },
                Package (0x04) { 0x0012FFFF, 0x01, Zero, 0x0B },
                Package (0x04) { 0x0012FFFF, 0x02, Zero, 0x05 },
                Package (0x04) { 0x0012FFFF, 0x03, Zero, 0x05 },
                Package (0x04) { 0x0013FFFF, 0x00, Zero, 0x0B },
                Package (0x04) { 0x0013FFFF, 0x01, Zero, 0x05 },
                Package (0x04) { 0x0013FFFF, 0x02, Zero, 0x05 },
                Package (0x04) { 0x0013FFFF, 0x03, Zero, 0x0A },
                Package (0x04) { 0x0014FFFF, 0x00, Zero, 0x05 },
                Package (0x04) { 0x0014FFFF, 0x01, Zero, 0x05 },
                Package (0x04) { 0x0014FFFF, 0x02, Zero, 0x0A },
                Package (0x04) { 0x0014FFFF, 0x03, Zero, 0x0B },
                Package (0x04) { 0x0015FFFF, 0x00, Zero, 0x05 },
                Package (0x04) { 0x0015FFFF, 0x01, Zero, 0x0A },
                Package (0x04) { 0x0015FFFF, 0x02, Zero, 0x0B },
                Package (0x04) { 0x0015FFFF, 0x03, Zero, 0x05 },
                Package (0x04) { 0x0016FFFF, 0x00, Zero, 0x0A },
                Package (0x04) { 0x0016FFFF, 0x01, Zero, 0x0B },
                Package (0x04) { 0x0016FFFF, 0x02, Zero, 0x05 },
                Package (0x04) { 0x0016FFFF, 0x03, Zero, 0x05 },
                Package (0x04) { 0x0017FFFF, 0x00, Zero, 0x0B },
                Package (0x04) { 0x0017FFFF, 0x01, Zero, 0x05 },
                Package (0x04) { 0x0017FFFF, 0x02, Zero, 0x05 },
                Package (0x04) { 0x0017FFFF, 0x03, Zero, 0x0A },
                Package (0x04) { 0x0018FFFF, 0x00, Zero, 0x05 },
                Package (0x04) { 0x0018FFFF, 0x01, Zero, 0x05 },
                Package (0x04) { 0x0018FFFF, 0x02, Zero, 0x0A },
                Package (0x04) { 0x0018FFFF, 0x03, Zero, 0x0B },
                Package (0x04) { 0x0019FFFF, 0x00, Zero, 0x05 },
                Package (0x04) { 0x0019FFFF, 0x01, Zero, 0x0A },
                Package (0x04) { 0x0019FFFF, 0x02, Zero, 0x0B },
                Package (0x04) { 0x0019FFFF, 0x03, Zero, 0x05 },
                Package (0x04) { 0x001AFFFF, 0x00, Zero, 0x0A },
                Package (0x04) { 0x001AFFFF, 0x01, Zero, 0x0B },
                Package (0x04) { 0x001AFFFF, 0x02, Zero, 0x05 },
                Package (0x04) { 0x001AFFFF, 0x03, Zero, 0x05 },
                Package (0x04) { 0x001BFFFF, 0x00, Zero, 0x0B },
                Package (0x04) { 0x001BFFFF, 0x01, Zero, 0x05 },
                Package (0x04) { 0x001BFFFF, 0x02, Zero, 0x05 },
                Package (0x04) { 0x001BFFFF, 0x03, Zero, 0x0A },
                Package (0x04) { 0x001CFFFF, 0x00, Zero, 0x05 },
                Package (0x04) { 0x001CFFFF, 0x01, Zero, 0x05 },
                Package (0x04) { 0x001CFFFF, 0x02, Zero, 0x0A },
                Package (0x04) { 0x001CFFFF, 0x03, Zero, 0x0B },
                Package (0x04) { 0x001DFFFF, 0x00, Zero, 0x05 },
                Package (0x04) { 0x001DFFFF, 0x01, Zero, 0x0A },
                Package (0x04) { 0x001DFFFF, 0x02, Zero, 0x0B },
                Package (0x04) { 0x001DFFFF, 0x03, Zero, 0x05 },
                Package (0x04) { 0x001EFFFF, 0x00, Zero, 0x0A },
                Package (0x04) { 0x001EFFFF, 0x01, Zero, 0x0B },
                Package (0x04) { 0x001EFFFF, 0x02, Zero, 0x05 },
                Package (0x04) { 0x001EFFFF, 0x03, Zero, 0x05 },
                Package (0x04) { 0x001FFFFF, 0x00, Zero, 0x0B },
                Package (0x04) { 0x001FFFFF, 0x01, Zero, 0x05 },
                Package (0x04) { 0x001FFFFF, 0x02, Zero, 0x05 },
                Package (0x04) { 0x001FFFFF, 0x03, Zero, 0x0A }
            })

            /* PIIX3 PCI-to-ISA bridge, 00:01.0 */
            Device (ISA)
            {
                Name (_ADR, 0x00010000)

                Device (RTC)
                {
                    Name (_HID, EisaId ("PNP0B00"))
                    Name (_CRS, ResourceTemplate ()
                    {
                        IO (Decode16, 0x0070, 0x0070, 0x01, 0x02)
                        IRQNoFlags () {8}
                    })
                }

                Device (KBD)
                {
                    Name (_HID, EisaId ("PNP0303"))
                    Name (_CRS, ResourceTemplate ()
                    {
                        IO (Decode16, 0x0060, 0x0060, 0x01, 0x01)
                        IO (Decode16, 0x0064, 0x0064, 0x01, 0x01)
                        IRQNoFlags () {1}
                    })
                }

                Device (MOU)
                {
                    Name (_HID, EisaId ("PNP0F13"))
                    Name (_CRS, ResourceTemplate ()
                    {
                        IRQNoFlags () {12}
                    })
                }

                Device (COM1)
                {
                    Name (_HID, EisaId ("PNP0501"))
                    Name (_UID, One)
                    Name (_CRS, ResourceTemplate ()
                    {
                        IO (Decode16, 0x03F8, 0x03F8, 0x01, 0x08)
                        IRQNoFlags () {4}
                    })
                }
            }
        }
    }
}
