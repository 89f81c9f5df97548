using UintrIpc.Memory;
using UintrIpc.Rings;

namespace UintrIpc.Tests.Rings;

/// <summary>
/// Raw access to a slot ring's shared memory, to play a buggy or hostile peer: the tests write
/// bad sequences, heads and tails here and expect the rings to refuse them.
/// </summary>
internal sealed unsafe class RingMemory(SharedRegion region, RegionPart part)
{
    private readonly byte* _ring = region.PartPointer(part);

    public static RingMemory Of(SharedRegion region, PartKind kind, uint tag = 0) => new(region, region.FindPart(kind, tag));

    public ulong Capacity => *(ulong*)(_ring + RingLayout.CapacityOffset);

    public int SlotSize => (int)*(uint*)(_ring + RingLayout.SlotSizeOffset);

    public ulong Head
    {
        get => Volatile.Read(ref *(ulong*)(_ring + RingLayout.HeadOffset));
        set => Volatile.Write(ref *(ulong*)(_ring + RingLayout.HeadOffset), value);
    }

    public ulong Tail
    {
        get => Volatile.Read(ref *(ulong*)(_ring + RingLayout.TailOffset));
        set => Volatile.Write(ref *(ulong*)(_ring + RingLayout.TailOffset), value);
    }

    /// <summary>The sequence word of the slot of <paramref name="position"/>.</summary>
    public ref ulong Sequence(ulong position) => ref *(ulong*)Slot(position);

    /// <summary>The element of the slot of <paramref name="position"/>.</summary>
    public ref T Element<T>(ulong position) where T : unmanaged => ref *(T*)(Slot(position) + RingLayout.SlotHeaderSize);

    /// <summary>A record ring's header at <paramref name="position"/>: length (low half), type (high half).</summary>
    public ref ulong RecordHeader(ulong position) => ref *(ulong*)(_ring + RingLayout.ControlSize + (long)(position & (Capacity - 1)));

    public uint DescriptorWord(int offset) => *(uint*)(_ring + offset);

    /// <summary>An SPSC record ring's claim_end word (uintripc.h 2g).</summary>
    public ref ulong ClaimEnd => ref *(ulong*)(_ring + RingLayout.ClaimEndOffset);

    /// <summary>A record ring's data byte at <paramref name="position"/> (wrapped to its index).</summary>
    public ref byte DataByte(ulong position) => ref _ring[RingLayout.ControlSize + (long)(position & (Capacity - 1))];

    /// <summary>A word of the control block (e.g. <see cref="RingLayout.UnregisteredOffset"/>).</summary>
    public ref uint ControlWord(int offset) => ref *(uint*)(_ring + offset);

    /// <summary>Word <paramref name="offset"/> of entry <paramref name="entry"/> of an MPSC ring's producer table (uintripc.h 2f).</summary>
    public ref ulong ProducerWord(int entry, int offset)
        => ref *(ulong*)(_ring + *(long*)(_ring + RingLayout.ProducerTableOffsetOffset) + ((long)entry * RingLayout.ProducerEntrySize) + offset);

    /// <summary>Plays a registered producer: entry <paramref name="entry"/> owned by <paramref name="pid"/> in <paramref name="pidNamespace"/>, intent [start, start + count).</summary>
    public void Register(int entry, int pid, ulong pidNamespace, ulong start, ulong count, uint generation = 1)
    {
        ProducerWord(entry, RingLayout.ProducerPidNamespaceOffset) = pidNamespace;
        ProducerWord(entry, RingLayout.ProducerClaimOffset) = (uint)start | (count << 32);
        ProducerWord(entry, RingLayout.ProducerOwnerOffset) = (uint)pid | ((ulong)generation << 32);
    }

    public void SetDescriptorWord(int offset, uint value) => *(uint*)(_ring + offset) = value;

    private byte* Slot(ulong position) => _ring + RingLayout.ControlSize + ((long)(position & (Capacity - 1)) * SlotSize);
}
