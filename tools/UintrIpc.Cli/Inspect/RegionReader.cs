using System.Diagnostics;
using System.Globalization;
using UintrIpc.Channels;
using UintrIpc.Memory;
using UintrIpc.Rings;
using UintrIpc.Signaling;

namespace UintrIpc.Cli.Inspect;

/// <summary>
/// Reads a <see cref="RegionSnapshot"/> from an attached region. The header and part table were
/// validated by the attach; each ring descriptor and wait block is validated here by the
/// library's own checks, and a part that fails is reported with its problem instead of read.
/// Words that peers write are read with acquire loads (Volatile.Read), each on its own: a
/// snapshot of a live region is not one atomic instant.
/// </summary>
internal static unsafe class RegionReader
{
    internal static RegionSnapshot Read(SharedRegion region, string path)
    {
        var mapping = ProcessTable.Mapping(region.FileHandle);
        byte* b = region.BasePointer;
        var parts = region.Parts.Select(p => ReadPart(region, p, mapping)).ToList();
        return new RegionSnapshot(
            path,
            region.Size,
            *(ushort*)(b + RegionLayout.VersionOffset),
            KindName(region.RegionKind),
            "0x" + region.RegionKind.ToString("x8", CultureInfo.InvariantCulture),
            Enum.IsDefined(region.State) ? region.State.ToString() : $"unknown ({(uint)region.State})",
            region.Epoch.ToString("x16", CultureInfo.InvariantCulture),
            ProcessTable.Describe(region.CreatorPid, mapping),
            [.. mapping.Order().Select(pid => ProcessTable.Describe(pid, mapping))],
            parts);
    }

    private static string KindName(uint kind) => kind switch
    {
        ChannelCore.SlotRegionKind => "slot channel (IpcChannel<T>)",
        ChannelCore.MessageRegionKind => "message channel (IpcMessageChannel)",
        0 => "raw region (no kind)",
        _ => "application-defined" + FourCharacterCode(kind),
    };

    /// <summary>" 'ABCD'" when the kind's four bytes are printable ASCII (kinds are often chosen that way).</summary>
    private static string FourCharacterCode(uint kind)
    {
        Span<byte> bytes = stackalloc byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(bytes, kind);
        foreach (byte c in bytes)
        {
            if (c < 0x20 || c > 0x7e)
            {
                return string.Empty;
            }
        }

        return $" '{System.Text.Encoding.ASCII.GetString(bytes)}'";
    }

    private static PartSnapshot ReadPart(SharedRegion region, RegionPart part, IReadOnlySet<int> mapping)
    {
        string kind = Enum.IsDefined(part.Kind) ? part.Kind.ToString() : ((uint)part.Kind).ToString(CultureInfo.InvariantCulture);
        RingSnapshot? ring = null;
        WaitBlockSnapshot? waitBlock = null;
        string? problem = null;
        try
        {
            switch (part.Kind)
            {
                case PartKind.SpscSlots or PartKind.MpscSlots or PartKind.SpscRecords or PartKind.MpscRecords:
                    ring = ReadRing(region.PartPointer(part), part, SlotTrailer(region));
                    break;
                case PartKind.WaitBlock:
                    waitBlock = ReadWaitBlock(region, part, mapping);
                    break;
                default:
                    break;
            }
        }
        catch (RegionFormatException e)
        {
            problem = e.Message;
        }

        return new PartSnapshot(part.Index, kind, part.Tag, part.Offset, part.Length, ring, waitBlock, problem);
    }

    /// <summary>A slot channel with checksums has 4 more bytes per slot (uintripc.h 4a); its wait block says so (immutable, plain load).</summary>
    private static int SlotTrailer(SharedRegion region)
    {
        if (region.RegionKind != ChannelCore.SlotRegionKind || !region.Parts.Any(p => p.Kind == PartKind.WaitBlock && p.Tag == 0))
        {
            return 0;
        }

        uint flags = *(uint*)(region.PartPointer(region.FindPart(PartKind.WaitBlock, 0)) + WaitBlockLayout.ChannelFlagsOffset);
        return (flags & WaitBlockLayout.ChannelChecksums) != 0 ? MessageChecksum.Size : 0;
    }

    private static RingSnapshot ReadRing(byte* ring, RegionPart part, int slotTrailer)
    {
        var geometry = RingDescriptor.Read(ring, part.Length, part.Kind, slotTrailer); // immutable after publication
        bool slots = part.Kind is PartKind.SpscSlots or PartKind.MpscSlots;
        // Acquire: positions and heartbeat are written by the producers and the consumer while we read.
        ulong tail = Volatile.Read(ref *(ulong*)(ring + RingLayout.TailOffset));
        ulong head = Volatile.Read(ref *(ulong*)(ring + RingLayout.HeadOffset));
        long heartbeat = Volatile.Read(ref *(long*)(ring + RingLayout.HeartbeatOffset));
        long occupancy = unchecked((long)(tail - head));
        string? problem = head > tail ? $"the consumer position ({head}) is past the producer position ({tail})"
            : occupancy > geometry.Capacity ? $"{occupancy} in use, more than the capacity {geometry.Capacity}"
            : null;
        long nowMs = Stopwatch.GetTimestamp() / (Stopwatch.Frequency / 1000); // CLOCK_MONOTONIC, as the heartbeat
        return new RingSnapshot(
            slots ? "slots" : "bytes",
            geometry.Capacity,
            geometry.ElementSize,
            geometry.MaxMessageLength,
            tail,
            head,
            occupancy,
            problem is null ? Math.Round(100.0 * occupancy / geometry.Capacity, 1) : null,
            heartbeat == 0 ? null : nowMs - heartbeat,
            problem);
    }

    private static WaitBlockSnapshot ReadWaitBlock(SharedRegion region, RegionPart part, IReadOnlySet<int> mapping)
    {
        var block = new WaitBlock(region, part); // checks kind, length and alignment
        byte* p = region.PartPointer(part);
        // Acquire loads: the consumer and producers write these words.
        uint state = Volatile.Read(ref *(uint*)(p + WaitBlockLayout.ConsumerStateOffset));
        uint wakeWord = Volatile.Read(ref *(uint*)(p + WaitBlockLayout.WakeWordOffset));
        var doorbell = block.ConsumerDoorbellKind;
        var (pid, tid) = SignalDoorbellReceiver.ReadConsumerThread(block);
        var counters = block.ReadCounters();
        return new WaitBlockSnapshot(
            state switch
            {
                WaitBlockLayout.ConsumerAwake => "awake",
                WaitBlockLayout.ConsumerSleeping => "sleeping",
                _ => $"unknown ({state})",
            },
            wakeWord,
            Enum.IsDefined(doorbell) ? doorbell.ToString() : $"unknown ({(uint)doorbell})",
            pid == 0 ? null : ProcessTable.Describe(pid, mapping),
            tid,
            counters.Sleeps,
            counters.Timeouts,
            counters.WakeupsSeen,
            counters.WakeupsSent,
            counters.WakeupsSuppressed);
    }
}
