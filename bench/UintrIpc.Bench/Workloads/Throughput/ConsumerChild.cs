using UintrIpc.Bench.Processes;
using UintrIpc.Memory;
using UintrIpc.Rings;

namespace UintrIpc.Bench.Workloads.Throughput;

/// <summary>
/// The child role "consume": the consumer of a ring throughput test, in a fresh process of its
/// own, as the C baseline's consumer is (a child forked per run). In the long-lived harness
/// process the consumer ran beside the harness's threads, heap and code of every case before it.
/// It sets up its end of the ring, says READY, waits until the harness has every producer ready
/// (the start word), then consumes exactly as the harness did (<see cref="ThroughputLoops.Consume"/>)
/// and reports its span.
/// </summary>
internal static unsafe class ConsumerChild
{
    public static void Run(ChildArgs args, ChildChannel channel, Deadline deadline)
    {
        var spec = new ThroughputSpec(args.GetEnum<ThroughputTransport>("transport"), args.GetInt("size"), args.GetInt("producers"),
            Capacity: 0, bool.Parse(args.Get("batched")));
        using var region = BenchRegions.Open(args);
        BenchRegions.Prefault(region);
        byte* control = BenchRegions.Control(region);
        var checker = new MessageChecker(spec.Producers, args.GetLong("total"));
        var settings = new ConsumeSettings(args.GetLong("warmup"), TimeSpan.FromMilliseconds(args.GetDouble("warmup-ms")),
            (long*)(control + BenchRegions.PhaseOffset), deadline, bool.Parse(args.Get("oversubscribed")));
        checker = Consume(region, spec, checker, settings, () =>
        {
            channel.Ready();
            WaitForStart((long*)(control + BenchRegions.StartOffset), deadline);
        });
        channel.Result(ConsumerOutcome.Of(checker));
    }

    /// <summary>
    /// Consumes a ring throughput test from <paramref name="region"/>'s ring: builds the
    /// consumer end of <paramref name="spec"/>, calls <paramref name="beforeConsume"/> (it starts or
    /// awaits the producers), consumes every message and returns the checker with its span.
    /// </summary>
    public static MessageChecker Consume(SharedRegion region, ThroughputSpec spec, MessageChecker checker, ConsumeSettings settings, Action beforeConsume)
    {
        int size = spec.Size;
        return (spec.Transport, spec.Batched) switch
        {
            (ThroughputTransport.SpscRecord, true) => Run(new SpscRecordReadConsumer(new RecordRing(region, 0u), size), checker, settings, beforeConsume),
            (ThroughputTransport.SpscRecord, false) => Run(new SpscRecordConsumer(new RecordRing(region, 0u), size), checker, settings, beforeConsume),
            (ThroughputTransport.MpscRecord, true) => Run(new MpscRecordReadConsumer(new RecordRing(region, 0u), size), checker, settings, beforeConsume),
            (ThroughputTransport.MpscRecord, false) => Run(new MpscRecordConsumer(new RecordRing(region, 0u), size), checker, settings, beforeConsume),
            (ThroughputTransport.SpscSlot or ThroughputTransport.MpscSlot, _) =>
                ElementSize.With<SlotConsumeAction, MessageChecker>(size, new SlotConsumeAction(region, spec, beforeConsume, checker, settings)),
            _ => throw new ArgumentException($"{spec.Transport} is not a ring", nameof(spec)),
        };
    }

    /// <summary>Calls <paramref name="beforeConsume"/> once the port is set up, then consumes through it.</summary>
    private static MessageChecker Run<TPort>(TPort port, MessageChecker checker, ConsumeSettings settings, Action beforeConsume)
        where TPort : struct, IConsumerPort
    {
        beforeConsume();
        settings.Consume(ref port, ref checker);
        return checker;
    }

    /// <summary>Waits (sleeping: the producers may be starting on this CPU) until the harness sets the start word (acquire).</summary>
    private static void WaitForStart(long* start, Deadline deadline)
    {
        while (Volatile.Read(ref *start) == 0)
        {
            deadline.ThrowIfPassed("the producers to be ready");
            Thread.Sleep(1);
        }
    }

    private readonly struct SlotConsumeAction(SharedRegion region, ThroughputSpec spec, Action beforeConsume, MessageChecker checker, ConsumeSettings settings)
        : IElementAction<MessageChecker>
    {
        public MessageChecker Invoke<T>() where T : unmanaged => (spec.Transport, spec.Batched) switch
        {
            (ThroughputTransport.SpscSlot, false) => Run(new SpscSlotConsumer<T>(new SlotRing<T>(region, 0u)), checker, settings, beforeConsume),
            (ThroughputTransport.SpscSlot, true) => Run(new SpscSlotDrainConsumer<T>(new SlotRing<T>(region, 0u)), checker, settings, beforeConsume),
            (_, false) => Run(new MpscSlotConsumer<T>(new SlotRing<T>(region, 0u)), checker, settings, beforeConsume),
            _ => Run(new MpscSlotDrainConsumer<T>(new SlotRing<T>(region, 0u)), checker, settings, beforeConsume),
        };
    }
}

/// <summary>What the consumer loop needs besides its port and checker: warm-up count and time, the phase word, the deadline, whether to yield.</summary>
internal readonly unsafe struct ConsumeSettings(long warmup, TimeSpan warmupTime, long* phase, Deadline deadline, bool oversubscribed)
{
    public void Consume<TPort>(ref TPort port, ref MessageChecker checker) where TPort : struct, IConsumerPort
        => ThroughputLoops.Consume(ref port, ref checker, warmup, warmupTime, phase, deadline, oversubscribed);
}

/// <summary>
/// What a consumer reports (its RESULT line): the span and its counters, as <see cref="ThroughputRun"/> turns them into a
/// result, and the process it ran in (its CPU time is that process's: the consumer's threads and the runtime's).
/// </summary>
internal readonly record struct ConsumerOutcome(
    long InSpan, long WarmupMessages, double ElapsedNs, long CpuNs, long EmptyPolls, long WarmupInSpan, long MeasuredBeforeSpan, int Pid)
{
    /// <summary>The outcome of the consumer that ran in this process.</summary>
    public static ConsumerOutcome Of(MessageChecker c) => new(c.InSpan, c.WarmupMessages, c.Span.ElapsedNanoseconds, c.Span.CpuNanoseconds,
        c.EmptyPolls, c.WarmupInSpan, c.MeasuredBeforeSpan, Environment.ProcessId);

    /// <summary>Reads a RESULT line's json (snake case, as <see cref="ChildChannel"/> writes it).</summary>
    public static ConsumerOutcome From(System.Text.Json.JsonElement r) => new(
        r.GetProperty("in_span").GetInt64(), r.GetProperty("warmup_messages").GetInt64(), r.GetProperty("elapsed_ns").GetDouble(),
        r.GetProperty("cpu_ns").GetInt64(), r.GetProperty("empty_polls").GetInt64(), r.GetProperty("warmup_in_span").GetInt64(),
        r.GetProperty("measured_before_span").GetInt64(), r.GetProperty("pid").GetInt32());
}
