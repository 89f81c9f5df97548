using System.IO.Pipes;
using System.Net.Sockets;
using System.Numerics;
using System.Text.Json;
using UintrIpc.Bench.Processes;
using UintrIpc.Bench.Results;
using UintrIpc.Memory;
using UintrIpc.Rings;

namespace UintrIpc.Bench.Workloads.Throughput;

/// <summary>
/// The consumer's side of a throughput test (the harness process) and its child producers.
/// Region: the control part (phase word) and, for the rings, the ring (tag 0): slot rings of
/// the spec's capacity; record rings of as many bytes as that many records take (the C rule).
/// </summary>
internal static unsafe class ThroughputRun
{

    public static BenchResult Run(BenchCase c, CaseContext ctx, ThroughputSpec spec)
    {
        var o = ctx.Options;
        var transport = spec.Transport;
        int size = spec.Size;
        int producers = spec.Producers;
        long perProducer = Math.Max(1, MessageCount(o, spec) / producers);
        long total = perProducer * producers;
        long warmup = Math.Max(1, total / 10);
        bool oversubscribed = producers + 1 > Environment.ProcessorCount;

        using var region = BenchRegions.Create([BenchRegions.ControlPart(), .. RingPart(spec)]);
        BenchRegions.Prefault(region);
        var children = new List<ChildProcess>(); // every child, for the cleanup
        var producerChildren = new List<ChildProcess>(); // by producer id
        try
        {
            long* phase = (long*)(BenchRegions.Control(region) + BenchRegions.PhaseOffset);
            var checker = new MessageChecker(producers, total);
            var producerArgs = new Func<int, ChildArgs>(id => ctx.ChildArgs("produce", cpu: 1 + id)
                .Set("transport", transport).Set("size", size).Set("id", id).Set("batched", spec.Batched)
                .Set("count", perProducer).Set("producers", producers).Set("oversubscribed", oversubscribed));

            void StartAll()
            {
                for (int id = 0; id < producers; id++)
                {
                    var producer = ChildProcess.Start(producerArgs(id), region, native: MixedNative(o.CProducer, transport));
                    children.Add(producer);
                    producerChildren.Add(producer);
                }

                foreach (var child in producerChildren)
                {
                    child.WaitForStart("READY", ctx.SetupTimeout);
                }
            }

            var settings = new ConsumeSettings(warmup, o.WarmupTime, phase, ctx.Deadline, oversubscribed);
            ConsumerOutcome consumed;
            switch (transport)
            {
                case ThroughputTransport.Pipe:
                {
                    using var pipe = new AnonymousPipeServerStream(PipeDirection.In, HandleInheritability.Inheritable);
                    producerArgs = producerArgs.Then(a => a.Set("pipe", pipe.GetClientHandleAsString()));
                    StartAll();
                    pipe.DisposeLocalCopyOfClientHandle();
                    var port = new StreamConsumer(pipe, size);
                    settings.Consume(ref port, ref checker);
                    consumed = ConsumerOutcome.Of(checker);
                    break;
                }

                case ThroughputTransport.Socket:
                {
                    string endPoint = SocketIo.AbstractName();
                    using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                    listener.Bind(SocketIo.EndPoint(endPoint));
                    listener.Listen(1);
                    producerArgs = producerArgs.Then(a => a.Set("endpoint", endPoint));
                    StartAll();
                    using var socket = Latency.BaselinePingPong.Accept(listener, ctx.SetupTimeout);
                    socket.ReceiveTimeout = (int)o.Timeout.TotalMilliseconds;
                    var port = new SocketConsumer(socket, size);
                    settings.Consume(ref port, ref checker);
                    consumed = ConsumerOutcome.Of(checker);
                    break;
                }

                default:
                    if (!spec.ConsumerInChild && !o.CConsumer)
                    {
                        consumed = ConsumerOutcome.Of(ConsumerChild.Consume(region, spec, checker, settings, StartAll));
                        break;
                    }

                    // The consumer in a fresh process pinned to the harness's CPU, as the C baseline's
                    // (a child per run): it sets up its end, then every producer starts, then it consumes.
                    var consumer = ChildProcess.Start(ctx.ChildArgs("consume", cpu: 0)
                        .Set("transport", transport).Set("size", size).Set("producers", producers).Set("batched", spec.Batched)
                        .Set("total", total).Set("warmup", warmup).Set("warmup-ms", o.WarmupTime.TotalMilliseconds)
                        .Set("oversubscribed", oversubscribed), region, native: MixedNative(o.CConsumer, transport));
                    children.Add(consumer);
                    consumer.WaitForStart("READY", ctx.SetupTimeout);
                    StartAll();
                    // Release: the consumer reads it with acquire; every producer is ready.
                    Volatile.Write(ref *(long*)(BenchRegions.Control(region) + BenchRegions.StartOffset), 1);
                    consumed = ConsumerOutcome.From(consumer.WaitFor("RESULT", ctx.Deadline.Remaining + TimeSpan.FromSeconds(5)));
                    break;
            }

            double producerCpu = 0, producerWall = 0, fullPolls = 0, afterSpan = 0;
            var fullPollsById = new double[producers];
            var cpuById = new double[producers];
            for (int id = 0; id < producers; id++)
            {
                ChildProcess child = producerChildren[id];
                JsonElement r = child.WaitFor("RESULT", ctx.Deadline.Remaining + TimeSpan.FromSeconds(5));
                if (r.GetProperty("messages").GetInt64() != perProducer)
                {
                    throw new InvalidDataException($"a producer reports {r.GetProperty("messages").GetInt64()} measured messages, expected {perProducer}");
                }

                cpuById[id] = r.GetProperty("cpu_ns").GetDouble();
                producerCpu += cpuById[id];
                producerWall = Math.Max(producerWall, r.GetProperty("wall_ns").GetDouble());
                fullPollsById[id] = r.TryGetProperty("full_polls", out JsonElement full) ? full.GetDouble() : 0;
                fullPolls += fullPollsById[id];
                afterSpan += r.TryGetProperty("after_span", out JsonElement after) && after.GetBoolean() ? 1 : 0;
            }

            double elapsed = consumed.ElapsedNs;
            var extra = new Dictionary<string, double>(StringComparer.Ordinal)
            {
                ["producer_wall_ns"] = producerWall,
                ["producer_full_polls"] = fullPolls, // every producer's, as the C baseline sums them
                ["consumer_empty_polls"] = consumed.EmptyPolls,
                ["consumer_warmup_in_span"] = consumed.WarmupInSpan,
                ["consumer_measured_before_span"] = consumed.MeasuredBeforeSpan,
                ["producers_reported_after_span"] = afterSpan, // all of them: nothing of theirs ran in the span but their messages
                ["consumer_pid"] = consumed.Pid, // a ring's consumer: a child of its own (the harness's pid for the streams)
            };
            for (int id = 0; producers > 1 && id < producers; id++)
            {
                // Producer 1 shares the consumer's CPU on 2 CPUs (C: the same): its polls of a full ring take that CPU.
                extra[$"producer{id}_full_polls"] = fullPollsById[id];
                extra[$"producer{id}_cpu_ns"] = cpuById[id];
            }

            long inSpan = consumed.InSpan; // total, plus warm-up messages of a producer still warming up
            return c.Result(total, consumed.WarmupMessages, throughput: ThroughputSummary.From(inSpan, size, elapsed),
                cpuSender: producerCpu / total, cpuReceiver: consumed.CpuNs / (double)inSpan,
                utilSender: producerCpu / elapsed, utilReceiver: consumed.CpuNs / elapsed, extra: extra);
        }
        finally
        {
            foreach (var child in children)
            {
                child.Dispose();
            }
        }
    }

    /// <summary>
    /// Messages of a test: at most the count cap and the payload-bytes cap, but at least
    /// 100 000 up to 4 KiB messages (the C baseline's rule) and proportionally fewer above, and
    /// at least four ring laps. The C baseline is given the same count.
    /// </summary>
    public static long MessageCount(Cli.BenchOptions o, ThroughputSpec spec)
    {
        long cap = spec.IsRing ? o.ThroughputCount : o.StreamThroughputCount;
        long count = Math.Min(cap, Math.Max(o.ThroughputBytes / spec.Size, 100_000L * 4096 / Math.Max(spec.Size, 4096)));
        return spec.IsRing ? Math.Max(count, 4L * spec.Capacity) : count;
    }

    private static PartSpec[] RingPart(ThroughputSpec spec) => spec.Transport switch
    {
        ThroughputTransport.SpscRecord => [RecordRing.Part(RecordCapacity(spec.Size, spec.Capacity), spec.Size, tag: 0)],
        ThroughputTransport.MpscRecord => [RecordRing.Part(RecordCapacity(spec.Size, spec.Capacity), spec.Size, multipleProducers: true, tag: 0)],
        ThroughputTransport.Pipe or ThroughputTransport.Socket => [],
        _ => [ElementSize.With<SlotPartAction, PartSpec>(spec.Size, new SlotPartAction(spec))],
    };

    /// <summary>
    /// Bytes of a record ring that matches a slot ring of <paramref name="slots"/> slots: the
    /// next power of two of slots * align8(8 + size), and room for at least 8 records (the
    /// C baseline's record_ring_bytes).
    /// </summary>
    public static int RecordCapacity(int size, int slots)
    {
        long record = (8 + size + 7) & ~7L;
        return (int)BitOperations.RoundUpToPowerOf2((ulong)Math.Max(record * slots, 8L * size));
    }

    /// <summary>
    /// The C program (bench/native) for a side that --mixed runs in C, or null: the record rows
    /// only, SPSC and MPSC (the C child's protocol, throughput.c harness_child_main; every MPSC
    /// producer a C child of its own, registered at its id as the harness's are).
    /// </summary>
    private static string? MixedNative(bool inC, ThroughputTransport transport) => !inC ? null
        : transport is ThroughputTransport.SpscRecord or ThroughputTransport.MpscRecord ? Native.NativeBench.DefaultPath
        : throw new NotSupportedException($"--mixed runs record rows only, not {transport}");

    private static Func<int, ChildArgs> Then(this Func<int, ChildArgs> f, Func<ChildArgs, ChildArgs> g) => id => g(f(id));

    private readonly struct SlotPartAction(ThroughputSpec spec) : IElementAction<PartSpec>
    {
        public PartSpec Invoke<T>() where T : unmanaged => spec.Transport == ThroughputTransport.MpscSlot
            ? SlotRing<T>.Part(spec.Capacity, multipleProducers: true, tag: 0)
            : SlotRing<T>.Part(spec.Capacity, tag: 0);
    }
}
