using System.Runtime.CompilerServices;
using UintrIpc.Interop;

namespace UintrIpc.Rings;

// The SPSC producer's write prefetch ahead of single claims (PREFETCHW through the shim,
// Shim.PrefetchWrite): it asks for ownership of the lines it is about to write, so that their
// transfers from the consumer's core (which read and zeroed them a lap ago) overlap instead of
// each store waiting for its own line at the head of the store buffer (the slot rings do the
// same: SlotRingEngine's PrefetchSlotAhead). A batch's range keeps its read prefetch
// (PrefetchRange): a write prefetch there measured no better (design-notes). Hints: nothing is
// read or written, nothing can fault.
internal sealed unsafe partial class RecordRingEngine
{
    /// <summary>How far past the record it claims the SPSC producer asks for lines: 9, as the slot producer.</summary>
    private const int PrefetchAheadBytes = 9 * 64;

    /// <summary>
    /// SPSC, one record claimed at [<paramref name="start"/>, <paramref name="end"/>): asks for
    /// the lines up to <see cref="PrefetchAheadBytes"/> past it that no claim asked for yet, so
    /// that each line is in our cache, writable, before our stores reach it (as the slot
    /// producer's PrefetchSlotAhead). One call per new line, not per record.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void PrefetchAhead(long start, long end)
    {
        var prefetchWrite = Shim.PrefetchWrite;
        if (prefetchWrite != null && PrefetchTarget(start, end, out long from, out long to))
        {
            _local.PrefetchedTo = to;
            prefetchWrite(_data + ((int)from & _mask), (nuint)(to - from));
        }
    }

    /// <summary>
    /// The ring positions [<paramref name="from"/>, <paramref name="to"/>) that <see cref="PrefetchAhead"/>
    /// asks for after a claim of [<paramref name="start"/>, <paramref name="end"/>); false: none.
    /// Whole lines only, and only lines the cached head proves released: a line the consumer has
    /// yet to read (or zero) would be taken from it, to cross cores again. Never for MPSC: the
    /// bytes ahead are other producers' claims, being written now. Within one lap (no wrap) and
    /// at most <see cref="PrefetchLimit"/> bytes; the next claim goes on from there.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool PrefetchTarget(long start, long end, out long from, out long to)
    {
        // From where the last claim stopped, or the record's own first line after a jump (the
        // first claim, padding to the lap's end, lines the head held back).
        from = Math.Max(_local.PrefetchedTo, start & ~63L);
        to = Math.Min(end + PrefetchAheadBytes, _local.HeadCache + _capacity) & ~63L;
        to = Math.Min(to, Math.Min((from & ~(long)_mask) + _capacity, from + PrefetchLimit));
        return !_multiProducer && to > from;
    }

    /// <summary>SPSC: the position up to which <see cref="PrefetchAhead"/> has asked for lines (tests).</summary>
    internal long PrefetchedTo => _local.PrefetchedTo;
}
