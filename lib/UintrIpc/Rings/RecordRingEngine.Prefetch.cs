using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;
using UintrIpc.Interop;

namespace UintrIpc.Rings;

// The producer's write prefetches (PREFETCHW through the shim, Shim.PrefetchWrite): a producer
// asks for ownership of the lines it is about to write, so that their transfers from the
// consumer's core (which read and zeroed them a lap ago) overlap instead of each store waiting
// for its own line at the head of the store buffer (the slot rings do the same: SlotRingEngine's
// PrefetchSlotAhead). Hints: nothing is read or written, nothing can fault.
internal sealed unsafe partial class RecordRingEngine
{
    /// <summary>The most bytes of a claimed range asked for at once (64 lines).</summary>
    private const int PrefetchLimit = 4096;

    /// <summary>How far past the record it claims the SPSC producer asks for lines: 9, as the slot producer.</summary>
    private const int PrefetchAheadBytes = 9 * 64;

    /// <summary>
    /// Asks for the first lines of a claimed range at once, for writing. The consumer zeroed them
    /// last (they are in its cache); without this, each line is fetched only when the appends'
    /// stores reach it, one after another behind the store buffer. A write prefetch: a read
    /// prefetch (the fallback without the shim or the instruction) brings a line shared, and each
    /// store still waits for its upgrade. Only the range, SPSC and MPSC alike (it is ours alone):
    /// the bytes after it may still be the consumer's (SPSC: a full ring frees just enough for
    /// the claim), and a line pulled from there while it reads and zeroes them crosses cores up
    /// to three times instead of once; MPSC, they are the next producer's claim, being written
    /// now. At most <see cref="PrefetchLimit"/> bytes: the lines of a long range (32 records of
    /// 1 KiB) asked for at once evict each other before the appends reach them. Single thread,
    /// 8 MiB ring, produce ns per record, no prefetch -> read prefetch: 256 B 18.5-19.5 ->
    /// 12.4-12.9, 1 KiB 73-75 -> 40.6-42, 4 KiB 566-642 -> 244-298 (loaded machine).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PrefetchRange(byte* start, int bytes)
    {
        var prefetchWrite = Shim.PrefetchWrite;
        if (prefetchWrite != null)
        {
            prefetchWrite(start, (nuint)Math.Min(bytes, PrefetchLimit)); // from the line the range starts in
        }
        else if (Sse.IsSupported)
        {
            // A claimed range never crosses the end of the data area: no wrap. From the line
            // the range starts in (it may start mid-line).
            byte* end = start + Math.Min(bytes, PrefetchLimit);
            for (byte* line = (byte*)((nint)start & ~(nint)63); line < end; line += 64) // a cache line
            {
                Sse.Prefetch0(line);
            }
        }
    }

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
