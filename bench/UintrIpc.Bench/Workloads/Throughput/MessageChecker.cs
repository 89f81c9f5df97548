using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using UintrIpc.Bench.Processes;

namespace UintrIpc.Bench.Workloads.Throughput;

/// <summary>
/// The consumer's bookkeeping: checks that every producer's messages arrive complete and in
/// order, counts warm-up messages, and times the measured part from the poll that brought its
/// first message to the one that brought its last (the C baseline times from its warm-up's last
/// message to its last one, inside its loop). A struct passed by reference, so that its hot
/// fields stay in registers of the consumer loop, as the C consumer's locals do; the single
/// producer case checks one expected sequence, several producers one each, held in the checker
/// itself as the C consumer's `stamp_check.next[]` is in its frame.
/// </summary>
internal struct MessageChecker
{
    /// <summary>The most producers a checker takes (the harness's `--producers` limit).</summary>
    public const int MaxProducers = 64;

    /// <summary>Each producer's next sequence (used when there are several producers, or by <see cref="AcceptFromMany"/>).</summary>
    private ProducerSequences _next;
    private readonly int _producers;
    private readonly long _target;
    private readonly MeasuredSpan _span;
    private long _nextSingle;
    /// <summary>Measured messages when the span started (0: not yet): the poll that started it may have delivered several.</summary>
    private long _measuredAtStart;

    public MessageChecker(int producers, long measuredTotal)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(producers, MaxProducers);
        _producers = producers;
        _target = measuredTotal;
        _span = new MeasuredSpan();
    }

    public long WarmupMessages { get; private set; }

    /// <summary>
    /// Warm-up messages consumed inside the measured span: with several producers, one may still
    /// send warm-up messages after another started measuring. The span's rate counts them, as
    /// the C consumer counts every message after its first `warmup` positions.
    /// </summary>
    public long WarmupInSpan { get; private set; }

    /// <summary>
    /// Every message consumed from the measured span's start (after the first measured message)
    /// to its last, as before the span moved to the polls: the messages the starting poll
    /// delivered after the first are not counted (their time is not in the span either).
    /// </summary>
    public readonly long InSpan => Measured - MeasuredBeforeSpan + WarmupInSpan;

    /// <summary>Measured messages the span's starting poll delivered after the first (fewer than one poll's batch): counted, but not in the span.</summary>
    public readonly long MeasuredBeforeSpan => Math.Max(_measuredAtStart - 1, 0);

    public long Measured { get; private set; }

    /// <summary>The measured loop's polls that found nothing (set once, after it).</summary>
    public long EmptyPolls { get; set; }

    public readonly bool Done => Measured == _target;

    /// <summary>Where the measured part's start and end were taken.</summary>
    public readonly MeasuredSpan Span => _span;

    /// <summary>
    /// Checks one message's header and counts it: what the C consumer's check costs (its
    /// producer's next sequence compared and incremented, one counter), and no call. A call
    /// here, even one never made in the measured part, is a call inside the ring's read loop
    /// once the handler is inlined into it: the JIT then keeps the loop's values (the ring, the
    /// position, the count) on the stack, a store and reloads per message that C's loop does
    /// not have. So the span's edges are taken by the consumer loops between polls
    /// (<see cref="StartSpanIfMeasuring"/>, <see cref="FinishSpan"/>), and a warm-up message is
    /// counted here.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Accept(long header)
    {
        Check(header);
        if ((header & MessageHeader.WarmBit) == 0)
        {
            Measured++;
        }
    }

    /// <summary>
    /// <see cref="Accept"/> without the count of a measured message: for a port that hands the
    /// checker a batch in place (a ring's drain) and counts the batch's measured messages after it
    /// (<see cref="CountMeasured"/>). A warm-up message is counted here (rare after the flip).
    /// </summary>
    /// <remarks>
    /// Why: the checker is held by reference inside the ring's drain loop, so a count kept in it
    /// is a load and a store per message, and the drain's try/finally keeps the loop's own values
    /// written through to the stack too. The C consumer makes one store per message (its
    /// producer's next sequence); single-thread the others hit L1 and cost little, but
    /// cross-process they queue in the store buffer behind the head release, whose line the
    /// producers poll while the ring is full: 5 stack stores per message added to the C consumer
    /// raised its CPU per message from 2.8-3.6 to 4.5-7.4 ns (10 alternating pairs).
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Check(long header)
    {
        if (_producers <= 1)
        {
            // One producer (id 0): the header is the sequence, plus the warm-up bit.
            if ((header & ~MessageHeader.WarmBit) != _nextSingle)
            {
                throw OutOfOrder(header, _nextSingle);
            }

            _nextSingle++;
        }
        else
        {
            CheckSequenceFromMany(header);
        }

        CountWarmup(header);
    }

    /// <summary>Whether one producer sends: a batch's port may then keep its next sequence in a local (<see cref="NextSingle"/>, <see cref="CheckSingle"/>).</summary>
    public readonly bool SingleProducer => _producers <= 1;

    /// <summary>The one producer's next sequence, for a port that checks a batch against a local and stores it back after the batch.</summary>
    public long NextSingle
    {
        readonly get => _nextSingle;
        set => _nextSingle = value;
    }

    /// <summary>
    /// <see cref="Check"/> of one producer's message against <paramref name="expected"/>, the
    /// caller's local copy of <see cref="NextSingle"/> (the caller increments it): C's
    /// `harness_accept` with its `next` in a register. A warm-up message is counted here.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void CheckSingle(long header, long expected)
    {
        if ((header & ~MessageHeader.WarmBit) != expected)
        {
            throw OutOfOrder(header, expected);
        }

        CountWarmup(header);
    }

    /// <summary>
    /// <see cref="AcceptFromMany"/> with the count of measured messages kept by the caller:
    /// returns whether this one is measured (the caller adds them with <see cref="AddMeasured"/>
    /// after its batch; <paramref name="measuredPending"/> are those not added yet, so a warm-up
    /// message after them counts as inside the span, as it would have).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool CheckFromMany(long header, long measuredPending)
    {
        CheckSequenceFromMany(header);
        if ((header & MessageHeader.WarmBit) != 0)
        {
            WarmupMessages++;
            if (Measured + measuredPending != 0)
            {
                WarmupInSpan++;
            }

            return false;
        }

        return true;
    }

    /// <summary>Adds a batch's measured messages counted by <see cref="CheckFromMany"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void AddMeasured(long count) => Measured += count;

    /// <summary>
    /// <see cref="Accept"/> with the check of several producers whatever their number, as the C
    /// consumer of an MPSC ring checks (`stamp_accept`): the MPSC record ports' check, with no
    /// branch on the number of producers per message.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void AcceptFromMany(long header)
    {
        CheckSequenceFromMany(header);
        CountWarmup(header);
        if ((header & MessageHeader.WarmBit) == 0)
        {
            Measured++;
        }
    }

    /// <summary>
    /// After a batch of <paramref name="handled"/> messages went through <see cref="Check"/>:
    /// counts its measured ones (those that were not warm-up messages, of which
    /// <see cref="WarmupMessages"/> was <paramref name="warmupBefore"/> before the batch).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void CountMeasured(int handled, long warmupBefore) => Measured += handled - (WarmupMessages - warmupBefore);

    /// <summary>After a poll that consumed messages: starts the span once the first measured message is in (one compare per poll after that).</summary>
    /// <returns>True by the poll that started the span (the C consumer then restarts its empty-poll count).</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool StartSpanIfMeasuring()
    {
        if (_measuredAtStart == 0 && Measured != 0)
        {
            _measuredAtStart = Measured;
            _span.Start();
            return true;
        }

        return false;
    }

    /// <summary>After the poll that consumed the last measured message (<see cref="Done"/>): ends the span.</summary>
    public readonly void FinishSpan()
    {
        _span.Finish(); // first: nothing of the check (a getter's tier-0 compile) inside the span
        if (_measuredAtStart == 0 || !Done)
        {
            throw new InvalidOperationException($"the span ends after {Measured} of {_target} measured messages, started: {_measuredAtStart != 0}");
        }
    }

    /// <summary>
    /// Compiles the span's edges before the warm-up. Compiled at their first call, the end's
    /// (<see cref="FinishSpan"/>, <see cref="MeasuredSpan.Finish"/> and the getters FinishSpan
    /// checked first) JIT time fell inside the span, before its end was taken: tier-0 compiles in
    /// the consumer's measured time that the C consumer does not have (DOTNET_JitDisasmSummary,
    /// docs/design-notes.md mixed8).
    /// </summary>
    public static void PrecompileSpanEdges()
    {
        const System.Reflection.BindingFlags Any = System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.NonPublic
            | System.Reflection.BindingFlags.Instance;
        foreach (var method in new[]
        {
            typeof(MessageChecker).GetMethod(nameof(StartSpanIfMeasuring), Any), typeof(MessageChecker).GetMethod(nameof(FinishSpan), Any),
            typeof(MeasuredSpan).GetMethod(nameof(MeasuredSpan.Start), Any), typeof(MeasuredSpan).GetMethod(nameof(MeasuredSpan.Finish), Any),
            typeof(MeasuredSpan).GetProperty(nameof(MeasuredSpan.StartTicks))!.SetMethod, typeof(MeasuredSpan).GetProperty(nameof(MeasuredSpan.EndTicks))!.SetMethod,
            typeof(MeasuredSpan).GetProperty(nameof(MeasuredSpan.CpuNanoseconds))!.SetMethod,
        })
        {
            RuntimeHelpers.PrepareMethod((method ?? throw new MissingMethodException(nameof(MessageChecker), "a span edge")).MethodHandle);
        }
    }

    /// <summary>
    /// The stamp's producer (the bits above the sequence, the warm bit cleared: a set bit 63 is no
    /// producer's) below the producers' count, and its sequence that producer's next: C's
    /// `stamp_accept`. The entry is addressed from the checker's reference (no array, no length
    /// or bounds check: the id was compared with the count) and incremented in place, as C's
    /// `next[id]++`.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void CheckSequenceFromMany(long header)
    {
        ulong producer = (ulong)(header & ~MessageHeader.WarmBit) >> MessageHeader.ProducerShift;
        long sequence = header & MessageHeader.SequenceMask;
        if (producer >= (uint)_producers)
        {
            throw OutOfOrder(header, -1);
        }

        ref long expected = ref Unsafe.Add(ref _next[0], (nint)producer);
        if (sequence != expected)
        {
            throw OutOfOrder(header, expected);
        }

        expected++;
    }

    /// <summary>A warm-up message counted (rare after the flip), and whether it came after the first measured one.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void CountWarmup(long header)
    {
        if ((header & MessageHeader.WarmBit) != 0)
        {
            WarmupMessages++;
            if (Measured != 0)
            {
                WarmupInSpan++;
            }
        }
    }

    // Returns the exception for a throw at the call site: the JIT then knows that path ends.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static InvalidDataException OutOfOrder(long header, long expected) =>
        new InvalidDataException($"message from producer {MessageHeader.Producer(header)} has sequence {header & MessageHeader.SequenceMask}, expected {expected} (header 0x{header:x16})");

    /// <summary>Start and end of the measured part (clock and the consumer's CPU time), taken once each.</summary>
    internal sealed class MeasuredSpan
    {
        private long _cpu0;

        public long StartTicks { get; private set; }

        public long EndTicks { get; private set; }

        public long CpuNanoseconds { get; private set; }

        public double ElapsedNanoseconds => (EndTicks - StartTicks) * 1e9 / Stopwatch.Frequency;

        [MethodImpl(MethodImplOptions.NoInlining)]
        public void Start()
        {
            _cpu0 = CpuClock.ProcessNanoseconds();
            StartTicks = Stopwatch.GetTimestamp();
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        public void Finish()
        {
            EndTicks = Stopwatch.GetTimestamp();
            CpuNanoseconds = CpuClock.ProcessNanoseconds() - _cpu0;
        }
    }

    /// <summary>Room for each producer's next sequence in the checker (see <see cref="CheckSequenceFromMany"/>).</summary>
    [InlineArray(MaxProducers)]
    private struct ProducerSequences
    {
        private long _first;
    }
}
