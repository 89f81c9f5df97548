using UintrIpc.Channels;

namespace UintrIpc.Metrics;

/// <summary>
/// A channel object of this process as the instruments see it: a weak reference (metrics never
/// keep a channel or its mapping alive), its tags, and the addresses of its ring and wait block,
/// taken while the channel is created. Each reading takes a lease on the region, so the memory
/// stays mapped while it is read (also after the channel object, though not its reader or
/// writer, was disposed), and a channel whose mapping is gone is dropped, never read.
/// </summary>
internal sealed unsafe class ChannelObservation
{
    private readonly WeakReference<ChannelCore> _core;
    private readonly byte* _ring;
    private readonly byte* _waitBlock;
    private readonly bool _slots;
    private readonly long _capacity;
    private readonly int _elementSize;

    /// <summary>Called while the channel's creator holds the region (it is not disposed yet).</summary>
    internal ChannelObservation(ChannelCore core)
    {
        _core = new WeakReference<ChannelCore>(core);
        _ring = core.Region.PartPointer(core.RingPart);
        _waitBlock = core.Region.PartPointer(core.WaitBlockPart);
        _slots = core.Geometry.Kind is Memory.PartKind.SpscSlots or Memory.PartKind.MpscSlots;
        _capacity = core.Geometry.Capacity;
        _elementSize = core.Geometry.ElementSize;
        Epoch = core.Region.Epoch;
        Tags =
        [
            new(UintrIpcMeter.ChannelNameTag, core.Region.Name ?? $"memfd-{Epoch:x16}"),
            new(UintrIpcMeter.RingKindTag, RingKindName(core.RingPart.Kind)),
            new(UintrIpcMeter.DoorbellTag, DoorbellName(core.Doorbell)),
        ];
    }

    /// <summary>The region's epoch: tells two objects of one channel from two channels.</summary>
    internal ulong Epoch { get; }

    /// <summary>uintripc.channel.name, uintripc.ring.kind, uintripc.doorbell.</summary>
    internal KeyValuePair<string, object?>[] Tags { get; }

    /// <summary>Whether the channel may still be read (its objects live and its region is mapped).</summary>
    internal bool IsAlive => _core.TryGetTarget(out ChannelCore? core) && core.Region.IsMapped;

    /// <summary>Reads the channel, or returns false when it was collected or unmapped (then drop it).</summary>
    internal bool TryRead(out ChannelReading reading)
    {
        reading = default;
        if (!_core.TryGetTarget(out ChannelCore? core) || !core.TryAddLease())
        {
            return false;
        }

        try
        {
            reading = ChannelReading.Read(_ring, _waitBlock, _slots, _capacity, _elementSize);
            return true;
        }
        finally
        {
            core.ReleaseLease();
        }
    }

    private static string RingKindName(Memory.PartKind kind) => kind switch
    {
        Memory.PartKind.SpscSlots => "spsc_slots",
        Memory.PartKind.MpscSlots => "mpsc_slots",
        Memory.PartKind.SpscRecords => "spsc_records",
        Memory.PartKind.MpscRecords => "mpsc_records",
        Memory.PartKind.DuplexSlots => "duplex_slots",
        _ => "unknown",
    };

    private static string DoorbellName(DoorbellKind kind) => kind switch
    {
        DoorbellKind.None => "none",
        DoorbellKind.Futex => "futex",
        DoorbellKind.EventFd => "eventfd",
        DoorbellKind.Signal => "signal",
        DoorbellKind.Uintr => "uintr",
        DoorbellKind.UintrSimulated => "uintr_sim",
        _ => "unknown",
    };
}
