using System.Runtime.CompilerServices;
using UintrIpc.Interop;

namespace UintrIpc.Rings;

// The record producer's write prefetch for large single records (PREFETCHW through the shim,
// Shim.PrefetchWrite), as the slot producer's PrefetchSlots: it asks for ownership of the
// lines of the next record, which the consumer read and zeroed a lap ago (they are in its
// cache), so that their transfers overlap with this record's copy instead of each store waiting
// for its own line at the head of the store buffer. Only records of PrefetchMinimum bytes or
// more: at 8 B the faster producer fell into the full-ring lockstep with a TryRead consumer
// (design-notes, branch recprefetch). A batch's range has its own prefetch (PrefetchRange).
// MPSC single claims ask too (branch mpscrec1k): the bytes after a claim are the next claim of
// whichever producer wins it, most often the same one; a hint that lands in another producer's
// claim costs that producer a line transfer from us instead of from the consumer.
// Hints: nothing is read or written, nothing can fault.
internal sealed unsafe partial class RecordRingEngine
{
    /// <summary>The smallest aligned record whose single claim asks for the lines of the next one (1 KiB).</summary>
    internal const int PrefetchMinimum = 1024;

    /// <summary>
    /// The most bytes an MPSC single claim asks for after itself (1 KiB): the whole next record
    /// at 4 KiB (64 lines) cost the 2-producer 4 KiB row 0.92x (0.91-1.01, 5 pairs) against no
    /// prefetch, where 1 KiB records gained 1.23x (docs/design-notes.md "mpsc4k").
    /// </summary>
    internal const int MpscPrefetchBytes = 1024;

    /// <summary>
    /// A single record of <paramref name="aligned"/> bytes claimed up to <paramref name="end"/> (SPSC, or MPSC):
    /// asks for the lines of as many bytes after it (the next record, if of the same size).
    /// In-process twin, 1 KiB records, 8 MiB ring, p10 of 8192-message bursts: 63-67 -> 56-58 ns
    /// per message, p50 80-116 -> 58-60 (C without it 54-56, with it 51).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void PrefetchNextRecord(long end, int aligned)
    {
        // The size first, a compare of a register: small records (most MPSC claims) skip the
        // static's class-init check and load (64 B MPSC single claim 15.8 -> 16.2 ns with them first).
        if (aligned < PrefetchMinimum)
        {
            return;
        }

        var prefetchWrite = Shim.PrefetchWrite;
        if (prefetchWrite != null && PrefetchTarget(end, aligned, out long from, out long to))
        {
            _local.PrefetchedTo = to;
            prefetchWrite(_data + ((int)from & _mask), (nuint)(to - from));
        }
    }

    /// <summary>
    /// The ring positions [<paramref name="from"/>, <paramref name="to"/>) that <see cref="PrefetchNextRecord"/>
    /// asks for after a claim ending at <paramref name="end"/>; false: none. Whole lines from
    /// where the last call stopped, only lines the cached head proves released (a line the
    /// consumer has yet to read and zero would be taken from it, to cross cores again), within
    /// one lap (the next call goes on from the lap's start).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool PrefetchTarget(long end, int bytes, out long from, out long to)
    {
        from = Math.Max(_local.PrefetchedTo, end & ~63L);
        to = Math.Min(Math.Min(end + bytes, _local.HeadCache + _capacity) & ~63L, (from & ~(long)_mask) + _capacity);
        return to > from;
    }

    /// <summary>The position up to which <see cref="PrefetchNextRecord"/> has asked for lines (tests).</summary>
    internal long PrefetchedTo => _local.PrefetchedTo;
}
