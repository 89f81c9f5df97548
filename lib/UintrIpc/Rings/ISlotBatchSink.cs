using UintrIpc.Channels;

namespace UintrIpc.Rings;

/// <summary>
/// What a channel adds to a <see cref="SlotBatch{T}"/> of its ring: called once per batch, so
/// a channel wakes its reader once for many elements.
/// </summary>
internal interface ISlotBatchSink
{
    /// <summary>
    /// Before the release stores that publish <paramref name="count"/> slots from
    /// <paramref name="start"/>: the elements are written and still invisible (plain stores here
    /// are published by them).
    /// </summary>
    void Publishing(ref SlotRingEngine engine, ulong start, int count);

    /// <summary>After a batch was published or aborted (an MPSC abort leaves skips the reader steps over).</summary>
    void Completed();
}
