using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using UintrIpc.Bench.Processes;

namespace UintrIpc.Bench.Workloads.Throughput;

/// <summary>
/// The consumer's bookkeeping: checks that every producer's messages arrive complete and in
/// order, counts warm-up messages, and times the measured part from its first message to its
/// last (the C baseline times the same way). A struct passed by reference, so that its hot
/// fields stay in registers of the consumer loop, as the C consumer's locals do; the single
/// producer case checks one expected sequence, several producers an array.
/// </summary>
internal struct MessageChecker
{
    private readonly long[]? _next;
    private readonly long _target;
    private readonly MeasuredSpan _span;
    private long _nextSingle;

    public MessageChecker(int producers, long measuredTotal)
    {
        _next = producers > 1 ? new long[producers] : null;
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

    /// <summary>Every message consumed from the measured span's first message to its last.</summary>
    public readonly long InSpan => Measured + WarmupInSpan;

    public long Measured { get; private set; }

    /// <summary>The measured loop's polls that found nothing (set once, after it).</summary>
    public long EmptyPolls { get; set; }

    public readonly bool Done => Measured == _target;

    /// <summary>Where the measured part's start and end were taken.</summary>
    public readonly MeasuredSpan Span => _span;

    /// <summary>
    /// Checks one message's header and counts it. The measured path is what the C consumer's
    /// check costs (its producer's next sequence compared and incremented, one counter): a
    /// warm-up message and the span's first and last message go out of line.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Accept(long header)
    {
        if (_next is null)
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
            AcceptFromMany(header);
        }

        if ((header & MessageHeader.WarmBit) != 0)
        {
            CountWarmup();
            return;
        }

        long measured = ++Measured;
        if (measured == 1 || measured == _target)
        {
            SpanEdge(measured);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private readonly void AcceptFromMany(long header)
    {
        long[] next = _next!;
        int producer = MessageHeader.Producer(header);
        if ((uint)producer >= (uint)next.Length)
        {
            throw OutOfOrder(header, -1);
        }

        // One bounds check (above), not one per access.
        ref long expected = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(next), producer);
        if ((header & MessageHeader.SequenceMask) != expected)
        {
            throw OutOfOrder(header, expected);
        }

        expected++;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void CountWarmup()
    {
        WarmupMessages++;
        if (Measured != 0)
        {
            WarmupInSpan++;
        }
    }

    /// <summary>The measured span's first message (<paramref name="measured"/> 1) starts it, its last finishes it.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private readonly void SpanEdge(long measured)
    {
        if (measured == 1)
        {
            _span.Start();
        }

        if (measured == _target)
        {
            _span.Finish();
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
}
