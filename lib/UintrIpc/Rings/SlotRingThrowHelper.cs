using System.Diagnostics.CodeAnalysis;

namespace UintrIpc.Rings;

/// <summary>
/// Throws for the slot rings, out of line so that the hot paths stay small and inlinable.
/// Methods returning a value never return; the type only lets them sit in expressions.
/// Not NoInlining: the JIT's inliner then sees that they never return and compiles their
/// calls as such, so callers keep their values in registers across them. Marked NoInlining,
/// they were calls that return, and a producer loop spilled around them (stores that queue
/// behind its store to the slot: SPSC 8 B claim/publish cross-core, p10 of 4096-message
/// bursts 13.4-13.6 -> 9.6-10.1 ns per message).
/// </summary>
internal static class SlotRingThrowHelper
{
    [DoesNotReturn]
    internal static bool ThrowSequenceCorrupted(in SlotRingEngine ring, ulong position, ulong sequence)
    {
        string notYet = position < ring.Capacity ? "0" : $"{position + 1 - ring.Capacity} (previous lap, possibly | SlotSkipped)";
        throw Corrupted(ring, new RingCorruptedException("slot sequence", (long)position,
            $"expected {position + 1} (published) or {notYet} (not yet), found {sequence} (0x{sequence:x16})"));
    }

    [DoesNotReturn]
    internal static void ThrowPositionsCorrupted(in SlotRingEngine ring, ulong head, ulong tail, string reader)
        => throw Corrupted(ring, new RingCorruptedException("head/tail", (long)head,
            $"head {head} and tail {tail} (read by the {reader}) break head <= tail <= head + capacity ({ring.Capacity})"));

    [DoesNotReturn]
    internal static void ThrowPositionTooLarge(ulong position)
        => throw new RingCorruptedException("head/tail", (long)(position & long.MaxValue),
            $"position {position} is not below 2^62, where a slot sequence could alias the skip bit");

    [DoesNotReturn]
    internal static void ThrowTailMovedBack(in SlotRingEngine ring, ulong tail, ulong floor)
        => throw Corrupted(ring, new RingCorruptedException("tail", (long)(tail & long.MaxValue),
            $"the shared tail {tail} is behind {floor}, which this producer already claimed up to (moved back by a peer), or not below 2^62"));

    [DoesNotReturn]
    internal static void ThrowSkippedBeyondTail(in SlotRingEngine ring, ulong head, ulong tail)
        => throw Corrupted(ring, new RingCorruptedException("slot sequence", (long)head,
            $"a skip marker at position {head}, which no producer claimed (tail {tail})"));

    /// <summary>What a call that read shared memory breaking the ring's rules throws: <paramref name="corruption"/>, or ObjectDisposedException when the ring's mapping was retired under it (<see cref="RetiredMapping"/>).</summary>
    private static Exception Corrupted(in SlotRingEngine ring, Exception corruption) => RetiredMapping.OrDisposed(ring.Region, ring.Owner, corruption);

    [DoesNotReturn]
    internal static void ThrowReadWhileDraining()
        => throw new InvalidOperationException("A handler of Drain read from the same ring: Drain hands out the elements in order and releases them after it returns. Read after Drain returns.");

    /// <summary>Named after the channel end the user holds (<paramref name="owner"/>: <see cref="SlotRingEngine.Owner"/>), or "slot ring" for a bare ring.</summary>
    [DoesNotReturn]
    internal static void ThrowDisposed(string? owner)
        => throw new ObjectDisposedException(owner ?? "slot ring", "The channel end (or ring) this claim, batch or call belongs to was disposed: nothing more is written or read through it. Create, open or receive the channel again to go on.");

    [DoesNotReturn]
    internal static int ThrowNegativeLimit(int limit)
        => throw new ArgumentOutOfRangeException(nameof(limit), limit, "The limit must not be negative.");

    [DoesNotReturn]
    internal static void ThrowClaimNotActive()
        => throw new InvalidOperationException("The claim was already published or aborted, or was never taken (default SlotClaim).");

    [DoesNotReturn]
    internal static void ThrowClaimSuperseded(ulong position, ulong tail)
        => throw new InvalidOperationException(
            $"The claim of position {position} was superseded: the producer has since written up to position {tail}. " +
            "An SPSC ring has one claim at a time; publish it before writing again.");

    [DoesNotReturn]
    internal static void ThrowBatchCompleted(in SlotRingEngine ring, ulong start)
        => throw Corrupted(ring, new InvalidOperationException(
            $"The batch from position {start} was already published or aborted (through a copy), or its first slot no longer holds the batch's claimed marker (skipped by the consumer's TryUnblock, or overwritten)."));

    [DoesNotReturn]
    internal static void ThrowBatchCount(int count)
        => throw new ArgumentOutOfRangeException(nameof(count), count, "A batch claims at least one slot.");

    [DoesNotReturn]
    internal static void ThrowBatchCount(int count, int batchCount)
        => throw new ArgumentOutOfRangeException(nameof(count), count, $"A batch of {batchCount} slots publishes 0 to {batchCount} of them.");

    [DoesNotReturn]
    internal static void ThrowBatchIndex(int index, int count)
        => throw new ArgumentOutOfRangeException(nameof(index), index, $"The batch holds {count} slots.");
}
