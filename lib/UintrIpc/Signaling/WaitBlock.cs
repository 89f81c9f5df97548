using System.Diagnostics;
using System.Runtime.CompilerServices;
using UintrIpc.Memory;

namespace UintrIpc.Signaling;

// The wake-up protocol of one consumer (interop/include/uintripc.h section 3, which states
// every step, fence and state for both sides). It is Tmds.LinuxAsync's `_blockedState` moved
// into shared memory: a producer pays a system call only when the consumer announced a sleep.
// Nothing read here is used as an address or a length, so a corrupt word costs at most one
// spurious ring or a missed count.

/// <summary>
/// The wake-up protocol of one consumer in shared memory: the consumer announces that it
/// sleeps before blocking in its doorbell, and producers ring the doorbell only when it did.
/// </summary>
/// <remarks>
/// <para>Producer, after publishing each message (or batch):</para>
/// <code>ring.Publish(...); waitBlock.WakeIfSleeping(doorbellSender);</code>
/// <para>Consumer, when its ring is empty and spinning did not help (or use <see cref="BackoffIdleStrategy{TProbe}"/>):</para>
/// <code>waitBlock.Park(ref probe, doorbellReceiver, TimeSpan.FromMilliseconds(100)); // then re-check the ring</code>
/// <para>
/// One consumer thread parks at a time, and one <see cref="WaitBlock"/> instance serves that
/// consumer (it keeps a local count of rings owed to it). Dispose the region only after every
/// user of the wait block has stopped.
/// </para>
/// </remarks>
[DebuggerDisplay("{DebuggerDisplay,nq}")]
internal sealed unsafe class WaitBlock
{
    private readonly SharedRegion _region;
    private readonly byte* _block;
    private readonly bool _singleProducer;

    // Consumer-local: announced sleeps that a producer ended by CAS (each is owed one Ring).
    private long _sleepsTakenOver;

    /// <summary>Attaches to the wait-block part <paramref name="part"/> of <paramref name="region"/>.</summary>
    /// <param name="region">The region holding the wait block; keep it alive while this object is used.</param>
    /// <param name="part">A part of kind <see cref="PartKind.WaitBlock"/>.</param>
    /// <param name="singleProducer">
    /// True when only one producer thread in all processes calls <see cref="WakeIfSleeping"/>:
    /// its counters are then updated with a plain read and a release store instead of an atomic
    /// increment (cheaper on the hot path). With several producers this must be false, or counts are lost.
    /// </param>
    /// <exception cref="RegionFormatException">The part is not a wait block or is too short.</exception>
    public WaitBlock(SharedRegion region, RegionPart part, bool singleProducer = false)
    {
        ArgumentNullException.ThrowIfNull(region);
        if (part.Kind != PartKind.WaitBlock)
        {
            throw new RegionFormatException("wait block part kind", PartKind.WaitBlock.ToString(), part.Kind.ToString());
        }

        if (part.Length < WaitBlockLayout.Size)
        {
            throw new RegionFormatException("wait block part length", $">= {WaitBlockLayout.Size}", part.Length.ToString());
        }

        _region = region;
        _block = region.PartPointer(part);
        if (((nuint)_block & 7) != 0)
        {
            // The region validates part alignment; this guards the 8-byte atomics regardless.
            throw new RegionFormatException("wait block alignment", "8-byte aligned", $"0x{(nuint)_block:x}");
        }

        _singleProducer = singleProducer;
    }

    /// <summary>Attaches to the wait block of <paramref name="region"/> with tag <paramref name="tag"/>.</summary>
    /// <exception cref="KeyNotFoundException">The region has no such wait block.</exception>
    public WaitBlock(SharedRegion region, uint tag = 0, bool singleProducer = false)
        : this(region, FindPart(region, tag), singleProducer)
    {
    }

    /// <summary>The region the wait block lives in.</summary>
    public SharedRegion Region => _region;

    /// <summary>Whether the counters are updated for a single producer (see the constructor).</summary>
    public bool IsSingleProducer => _singleProducer;

    /// <summary>Whether the consumer has announced that it sleeps (acquire; for diagnostics).</summary>
    public bool IsConsumerSleeping => Volatile.Read(ref *StateWord) != WaitBlockLayout.ConsumerAwake;

    /// <summary>The doorbell the consumer last parked in, as it wrote it (acquire; may be any value if the peer is corrupt).</summary>
    public DoorbellKind ConsumerDoorbellKind => (DoorbellKind)Volatile.Read(ref *(uint*)(_block + WaitBlockLayout.DoorbellKindOffset));

    /// <summary>Address of the futex word (wake_word) for the futex doorbell.</summary>
    internal uint* WakeWord => (uint*)(_block + WaitBlockLayout.WakeWordOffset);

    /// <summary>The first byte of the wait block (for doorbells that own words in it: the signal doorbell's pid and tid).</summary>
    internal byte* Address => _block;

    /// <summary>
    /// Announced sleeps of this instance that a producer ended by CAS: each of them is owed
    /// exactly one Ring (section 3 of the header), also when the consumer found work in its
    /// re-check and never blocked. Consumer-local (only Park writes it; read it on that thread
    /// or after it stopped).
    /// </summary>
    internal long SleepsTakenOver => Volatile.Read(ref _sleepsTakenOver);

    private uint* StateWord => (uint*)(_block + WaitBlockLayout.ConsumerStateOffset);

    private string DebuggerDisplay
    {
        get
        {
            var c = ReadCounters();
            return $"{(IsConsumerSleeping ? "sleeping" : "awake")} in {ConsumerDoorbellKind}; sleeps={c.Sleeps} timeouts={c.Timeouts} sent={c.WakeupsSent} suppressed={c.WakeupsSuppressed}";
        }
    }

    /// <summary>A part spec for a wait block (zero-filled memory is the initial state: consumer awake, counters 0).</summary>
    /// <param name="tag">Tells several wait blocks of one region apart.</param>
    public static PartSpec Part(uint tag = 0) => new(PartKind.WaitBlock, tag, WaitBlockLayout.Size);

    /// <summary>
    /// Producer side, called right after publishing: rings <paramref name="doorbell"/> if the
    /// consumer announced that it sleeps, and only then. While the consumer is awake this costs
    /// a fence, a load and a counter update (with several producers the atomic counter update
    /// is the fence), and no system call.
    /// </summary>
    /// <param name="doorbell">The consumer's doorbell.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void WakeIfSleeping(DoorbellSender doorbell)
    {
        ArgumentNullException.ThrowIfNull(doorbell);
        uint state;
        if (!_singleProducer)
        {
            // Several producers: the atomic count is the full fence (P2; a locked RMW on any
            // line serves, section 3 after P6), so the caller's publish is globally visible
            // before the load below. Counted as suppressed first: the producer that rings
            // moves its count to wakeups_sent (P6), so the counters stay exact.
            Interlocked.Increment(ref *Counter(WaitBlockLayout.WakeupsSuppressedOffset));
            state = Volatile.Read(ref *StateWord); // acquire; after the fence
            if (state != WaitBlockLayout.ConsumerAwake)
            {
                WakeSleeping(state, doorbell, countedAsSuppressed: true);
            }

            return;
        }

        // Full fence (store-load): the caller's publish must be globally visible before we
        // read consumer_state, or the consumer's final probe and this load could both miss
        // the other side's store (Dekker); x86 TSO does not order a store before a later load.
        Interlocked.MemoryBarrier();
        // Acquire load; after the fence it only keeps the JIT from reusing an older read.
        state = Volatile.Read(ref *StateWord);
        if (state == WaitBlockLayout.ConsumerAwake)
        {
            CountProducer(WaitBlockLayout.WakeupsSuppressedOffset);
            return;
        }

        WakeSleeping(state, doorbell, countedAsSuppressed: false);
    }

    /// <summary>
    /// Consumer side: announces the sleep, probes once more, and blocks in
    /// <paramref name="doorbell"/> for at most <paramref name="timeout"/> unless work arrived.
    /// </summary>
    /// <typeparam name="TProbe">The probe type; a struct gets a specialised, inlined call.</typeparam>
    /// <param name="probe">Reports whether work arrived (acquire read of the ring).</param>
    /// <param name="doorbell">The consumer's doorbell receiver. With <see cref="DoorbellKind.None"/>
    /// the sleep is not announced (no producer could ring): the receiver idles one short slice.</param>
    /// <param name="timeout">Upper bound of the blocking wait (must not be negative).</param>
    /// <returns>
    /// True when the probe found work before blocking, or the doorbell rang (possibly
    /// spuriously); false when the wait timed out. Either way the caller re-checks its ring.
    /// </returns>
    /// <exception cref="ArgumentOutOfRangeException">The timeout is negative (an unbounded wait).</exception>
    /// <exception cref="ArgumentException">The receiver was created for another <see cref="WaitBlock"/> instance.</exception>
    public bool Park<TProbe>(ref TProbe probe, DoorbellReceiver doorbell, TimeSpan timeout)
        where TProbe : IWaitProbe
    {
        ArgumentNullException.ThrowIfNull(doorbell);
        WaitDeadline.Validate(timeout);
        DoorbellKind kind = doorbell.Kind;
        if (kind == DoorbellKind.None)
        {
            doorbell.Wait(0, timeout);
            return probe.HasWork;
        }

        if (doorbell.BoundWaitBlock is { } bound && bound != this)
        {
            // It counts rings owed on this instance, and waits on its own block's word or thread.
            throw new ArgumentException("The doorbell receiver was created for another WaitBlock instance; park with the instance it was created with.", nameof(doorbell));
        }

        PublishDoorbellKind(kind);

        // Before the announcement: a ring after it changes the doorbell's state (futex word).
        uint token = doorbell.PrepareToWait();

        // Announce with a full fence (xchg): SLEEPING must be globally visible before the
        // probe's load below (store-load ordering, the consumer half of the Dekker argument).
        Interlocked.Exchange(ref *StateWord, WaitBlockLayout.ConsumerSleeping);
        bool woken;
        try
        {
            if (probe.HasWork)
            {
                return true;
            }

            woken = doorbell.Wait(token, timeout);
        }
        finally
        {
            // Also when the probe or the doorbell throws: a consumer left "sleeping" would make
            // producers ring for nothing.
            EndSleep();
        }

        // Consumer-owned counters: one writer, so plain read + release store.
        CountConsumer(WaitBlockLayout.SleepsOffset);
        CountConsumer(woken ? WaitBlockLayout.WakeupsSeenOffset : WaitBlockLayout.TimeoutsOffset);
        return woken;
    }

    /// <summary>Reads the five counters (each with acquire semantics).</summary>
    public WaitBlockCounters ReadCounters() => ReadCounters(_block);

    /// <summary>Reads the five counters of the wait block at <paramref name="block"/> (each with acquire semantics); the caller keeps it mapped.</summary>
    internal static WaitBlockCounters ReadCounters(byte* block) => new(
        Volatile.Read(ref *(ulong*)(block + WaitBlockLayout.SleepsOffset)),
        Volatile.Read(ref *(ulong*)(block + WaitBlockLayout.TimeoutsOffset)),
        Volatile.Read(ref *(ulong*)(block + WaitBlockLayout.WakeupsSeenOffset)),
        Volatile.Read(ref *(ulong*)(block + WaitBlockLayout.WakeupsSentOffset)),
        Volatile.Read(ref *(ulong*)(block + WaitBlockLayout.WakeupsSuppressedOffset)));

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void WakeSleeping(uint seen, DoorbellSender doorbell, bool countedAsSuppressed)
    {
        // Full fence (CAS): exactly one producer wins each announced sleep and rings; `seen`
        // may be SLEEPING or garbage from a corrupt peer, either way we take it to AWAKE.
        if (Interlocked.CompareExchange(ref *StateWord, WaitBlockLayout.ConsumerAwake, seen) != seen)
        {
            // The consumer woke up by itself, or another producer won and rings.
            if (!countedAsSuppressed)
            {
                CountProducer(WaitBlockLayout.WakeupsSuppressedOffset);
            }

            return;
        }

        try
        {
            doorbell.Ring();
        }
        finally
        {
            // After Ring: the signal doorbell's teardown relies on "counted" meaning "done ringing".
            CountProducer(WaitBlockLayout.WakeupsSentOffset);
            if (countedAsSuppressed)
            {
                // Sent first, then the early count taken back: the sum never falls short.
                Interlocked.Decrement(ref *Counter(WaitBlockLayout.WakeupsSuppressedOffset));
            }
        }
    }

    private void EndSleep()
    {
        // Full fence (xchg), and it tells us whether a producer took this sleep over by CAS
        // (then it owes one Ring).
        if (Interlocked.Exchange(ref *StateWord, WaitBlockLayout.ConsumerAwake) != WaitBlockLayout.ConsumerSleeping)
        {
            Volatile.Write(ref _sleepsTakenOver, _sleepsTakenOver + 1);
        }
    }

    private void PublishDoorbellKind(DoorbellKind kind)
    {
        uint* kindWord = (uint*)(_block + WaitBlockLayout.DoorbellKindOffset);
        int* pidWord = (int*)(_block + WaitBlockLayout.ConsumerPidOffset);
        int pid = Environment.ProcessId;
        // Own words: a plain read is enough to skip the store when nothing changed.
        if (*kindWord != (uint)kind || *pidWord != pid)
        {
            // Release: diagnostics for producers; the protocol does not depend on these.
            Volatile.Write(ref *kindWord, (uint)kind);
            if (*pidWord != pid)
            {
                Volatile.Write(ref *pidWord, pid);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void CountProducer(int offset)
    {
        ulong* counter = Counter(offset);
        if (_singleProducer)
        {
            // One writer: no read-modify-write race; release so readers see a coherent value.
            Volatile.Write(ref *counter, *counter + 1);
        }
        else
        {
            // Several producers in several processes: atomic, or concurrent increments are lost.
            Interlocked.Increment(ref *counter);
        }
    }

    private void CountConsumer(int offset)
    {
        ulong* counter = Counter(offset);
        Volatile.Write(ref *counter, *counter + 1); // one writer (the consumer); release for readers
    }

    private ulong* Counter(int offset) => (ulong*)(_block + offset);

    private static RegionPart FindPart(SharedRegion region, uint tag)
    {
        ArgumentNullException.ThrowIfNull(region);
        return region.FindPart(PartKind.WaitBlock, tag);
    }
}
