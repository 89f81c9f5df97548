using UintrIpc.Channels;
using UintrIpc.Signaling;

namespace UintrIpc.Metrics;

/// <summary>
/// A channel object of this process as the instruments see it: a weak reference (metrics never
/// keep a channel or its mapping alive) and its tags. Each reading takes a lease on the region,
/// so a channel disposed meanwhile is skipped, never read after it was unmapped.
/// </summary>
internal sealed class ChannelObservation
{
    private readonly WeakReference<ChannelCore> _core;

    internal ChannelObservation(ChannelCore core)
    {
        _core = new WeakReference<ChannelCore>(core);
        Tags =
        [
            new(UintrIpcMeter.ChannelNameTag, core.Region.Name ?? $"memfd-{core.Region.Epoch:x16}"),
            new(UintrIpcMeter.RingKindTag, RingKindName(core.RingPart.Kind)),
            new(UintrIpcMeter.DoorbellTag, DoorbellName(core.Doorbell)),
        ];
    }

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
            reading = ChannelReading.Read(core);
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
