namespace UintrIpc.Rings;

/// <summary>
/// A producer thread's place in an MPSC ring's producer table (uintripc.h 2f): the intent word
/// it stores before each claim CAS, and the tag its claimed markers carry.
/// </summary>
internal readonly unsafe struct ProducerSlot
{
    internal ProducerSlot(ulong* intent, int index, ulong owner)
    {
        Intent = intent;
        Index = index;
        Owner = owner;
        Tag = ClaimMarker.Tag(index, owner);
    }

    /// <summary>The entry's claim word (a private stand-in without an entry).</summary>
    internal ulong* Intent { get; }

    /// <summary>The entry index, or <see cref="RingLayout.ProducerNone"/>.</summary>
    internal int Index { get; }

    /// <summary>The owner word of the registration (pid | generation).</summary>
    internal ulong Owner { get; }

    /// <summary>Entry index and generation as claimed markers carry them.</summary>
    internal uint Tag { get; }
}
