using System.Diagnostics;
using System.Runtime.CompilerServices;
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
            WarmupMessages++;
            if (Measured != 0)
            {
                WarmupInSpan++;
            }

            return;
        }

        if (Measured == 0)
        {
            _span.Start();
        }

        if (++Measured == _target)
        {
            _span.Finish();
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private readonly void AcceptFromMany(long header)
    {
        int producer = MessageHeader.Producer(header);
        if ((uint)producer >= (uint)_next!.Length || (header & MessageHeader.SequenceMask) != _next[producer])
        {
            throw OutOfOrder(header, (uint)producer < (uint)_next.Length ? _next[producer] : -1);
        }

        _next[producer]++;
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
