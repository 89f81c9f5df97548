using UintrIpc.Signaling;

namespace UintrIpc.Metrics;

/// <summary>
/// One reading of a channel's shared words for the instruments: the ring's positions (slots, or
/// bytes for message channels) and the wait block's counters. The values come from shared
/// memory, which a peer can write: they are only reported, never used as addresses or lengths.
/// </summary>
internal readonly record struct ChannelReading(bool Slots, long Tail, long Head, long Capacity, int ElementSize, WaitBlockCounters Counters)
{
    /// <summary>Bytes sent: elements times their size, or the record ring's byte position.</summary>
    internal long BytesSent => Slots ? Saturating(Tail, ElementSize) : Tail;

    /// <summary>Bytes received, as <see cref="BytesSent"/>.</summary>
    internal long BytesReceived => Slots ? Saturating(Head, ElementSize) : Head;

    /// <summary>The used share of the ring, 0 to 1 (an SPSC slot ring's shared tail may lag its head: 0 then).</summary>
    internal double Utilization => Tail > Head ? Math.Min(Tail - Head, Capacity) / (double)Capacity : 0;

    /// <summary>Reads the ring control block at <paramref name="ring"/> and the wait block at <paramref name="waitBlock"/>; the caller holds a lease on their region.</summary>
    internal static unsafe ChannelReading Read(byte* ring, byte* waitBlock, bool slots, long capacity, int elementSize)
    {
        // Acquire loads of words other sides write (uintripc.h sections 2 and 3); the tail first,
        // so that a consistent pair has head <= tail (section 2b).
        ulong tail = Volatile.Read(ref *(ulong*)(ring + Rings.RingLayout.TailOffset));
        ulong head = Volatile.Read(ref *(ulong*)(ring + Rings.RingLayout.HeadOffset));
        return new ChannelReading(slots, Clamp(tail), Clamp(head), capacity, elementSize, WaitBlock.ReadCounters(waitBlock));
    }

    /// <summary>A counter as a long (a forged value at or above 2^63 reads as long.MaxValue).</summary>
    internal static long Clamp(ulong value) => (long)Math.Min(value, long.MaxValue);

    private static long Saturating(long count, int size) => count > long.MaxValue / Math.Max(size, 1) ? long.MaxValue : count * size;
}
