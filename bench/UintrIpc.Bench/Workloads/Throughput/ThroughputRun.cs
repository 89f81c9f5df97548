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
/// 1024 slots as in C; record rings of about 1024 messages, 64 KiB to 8 MiB.
/// </summary>
internal static unsafe class ThroughputRun
{
    public const int SlotCapacity = 1024;

    public static BenchResult Run(BenchCase c, CaseContext ctx, ThroughputTransport transport)
    {
        var o = ctx.Options;
        int size = c.MessageSize;
        int producers = c.Producers;
        bool stream = transport is ThroughputTransport.Pipe or ThroughputTransport.Socket;
        long perProducer = Math.Max(1, Count(stream ? o.StreamThroughputCount : o.ThroughputCount, o.ThroughputBytes, size) / producers);
        long total = perProducer * producers;
        long warmup = Math.Max(1, total / 10);
        bool oversubscribed = producers + 1 > Environment.ProcessorCount;

        using var region = BenchRegions.Create([BenchRegions.ControlPart(), .. RingPart(transport, size)]);
        var children = new List<ChildProcess>();
        try
        {
            ctx.PinMeasuringThread();
            long* phase = (long*)(BenchRegions.Control(region) + BenchRegions.PhaseOffset);
            var checker = new MessageChecker(producers, total);
            var producerArgs = new Func<int, ChildArgs>(id => ctx.ChildArgs("produce", cpu: 1 + id)
                .Set("transport", transport).Set("size", size).Set("id", id)
                .Set("count", perProducer).Set("oversubscribed", oversubscribed));

            void StartAll()
            {
                for (int id = 0; id < producers; id++)
                {
                    children.Add(ChildProcess.Start(producerArgs(id), region));
                }

                foreach (var child in children)
                {
                    child.WaitFor("READY", ctx.SetupTimeout);
                }
            }

            void Consume<TPort>(ref TPort port) where TPort : struct, IConsumerPort
                => ThroughputLoops.Consume(ref port, ref checker, warmup, o.WarmupTime, phase, ctx.Deadline, oversubscribed);

            switch (transport)
            {
                case ThroughputTransport.SpscRecord:
                {
                    var port = new SpscRecordConsumer(new SpscRecordRing(region, 0u), size);
                    StartAll();
                    Consume(ref port);
                    break;
                }

                case ThroughputTransport.MpscRecord:
                {
                    var port = new MpscRecordConsumer(new MpscRecordRing(region, 0u), size);
                    StartAll();
                    Consume(ref port);
                    break;
                }

                case ThroughputTransport.Pipe:
                {
                    using var pipe = new AnonymousPipeServerStream(PipeDirection.In, HandleInheritability.Inheritable);
                    producerArgs = producerArgs.Then(a => a.Set("pipe", pipe.GetClientHandleAsString()));
                    StartAll();
                    pipe.DisposeLocalCopyOfClientHandle();
                    var port = new StreamConsumer(pipe, size);
                    Consume(ref port);
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
                    Consume(ref port);
                    break;
                }

                default:
                    checker = ElementSize.With<SlotConsumeAction, MessageChecker>(size, new SlotConsumeAction(region, transport, StartAll, checker, warmup, o.WarmupTime, phase, ctx.Deadline, oversubscribed));
                    break;
            }

            double producerCpu = 0, producerWall = 0;
            foreach (var child in children)
            {
                JsonElement r = child.WaitFor("RESULT", ctx.Deadline.Remaining + TimeSpan.FromSeconds(5));
                if (r.GetProperty("messages").GetInt64() != perProducer)
                {
                    throw new InvalidDataException($"a producer reports {r.GetProperty("messages").GetInt64()} measured messages, expected {perProducer}");
                }

                producerCpu += r.GetProperty("cpu_ns").GetDouble();
                producerWall = Math.Max(producerWall, r.GetProperty("wall_ns").GetDouble());
            }

            double elapsed = checker.Span.ElapsedNanoseconds;
            return c.Result(total, checker.WarmupMessages, throughput: ThroughputSummary.From(total, size, elapsed),
                cpuSender: producerCpu / total, cpuReceiver: checker.Span.CpuNanoseconds / (double)total,
                utilSender: producerCpu / elapsed, utilReceiver: checker.Span.CpuNanoseconds / elapsed,
                extra: new Dictionary<string, double>(StringComparer.Ordinal) { ["producer_wall_ns"] = producerWall });
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
    /// Messages of a test: at most <paramref name="countCap"/> and <paramref name="bytesCap"/>
    /// payload bytes, but at least 100 000 up to 4 KiB messages (the C baseline's rule) and
    /// proportionally fewer above.
    /// </summary>
    public static long Count(long countCap, long bytesCap, int size) =>
        Math.Min(countCap, Math.Max(bytesCap / size, 100_000L * 4096 / Math.Max(size, 4096)));

    private static PartSpec[] RingPart(ThroughputTransport transport, int size) => transport switch
    {
        ThroughputTransport.SpscRecord => [SpscRecordRing.Part(RecordCapacity(size), size, 0)],
        ThroughputTransport.MpscRecord => [MpscRecordRing.Part(RecordCapacity(size), size, 0)],
        ThroughputTransport.Pipe or ThroughputTransport.Socket => [],
        _ => [ElementSize.With<SlotPartAction, PartSpec>(size, new SlotPartAction(transport))],
    };

    /// <summary>Room for about 1024 records of <paramref name="size"/> bytes (as the slot rings), 64 KiB to 8 MiB, and at least 8 records.</summary>
    public static int RecordCapacity(int size)
    {
        long record = (8 + size + 7) & ~7L;
        long capacity = (long)BitOperations.RoundUpToPowerOf2((ulong)(record * SlotCapacity));
        return (int)Math.Max(Math.Clamp(capacity, 64 << 10, 8 << 20), (long)BitOperations.RoundUpToPowerOf2((ulong)size * 8));
    }

    private static Func<int, ChildArgs> Then(this Func<int, ChildArgs> f, Func<ChildArgs, ChildArgs> g) => id => g(f(id));

    private readonly struct SlotPartAction(ThroughputTransport transport) : IElementAction<PartSpec>
    {
        public PartSpec Invoke<T>() where T : unmanaged => transport == ThroughputTransport.MpscSlot
            ? MpscRing<T>.Part(SlotCapacity, 0)
            : SpscRing<T>.Part(SlotCapacity, 0);
    }

    private readonly struct SlotConsumeAction(
        SharedRegion region, ThroughputTransport transport, Action startAll, MessageChecker checker, long warmup, TimeSpan warmupTime,
        long* phase, Deadline deadline, bool oversubscribed) : IElementAction<MessageChecker>
    {
        public MessageChecker Invoke<T>() where T : unmanaged
        {
            var consumed = checker;
            switch (transport)
            {
                case ThroughputTransport.SpscSlot:
                {
                    var port = new SpscSlotConsumer<T>(new SpscRing<T>(region, 0u));
                    startAll();
                    ThroughputLoops.Consume(ref port, ref consumed, warmup, warmupTime, phase, deadline, oversubscribed);
                    break;
                }

                case ThroughputTransport.SpscSlotDrain:
                {
                    var port = new SpscSlotDrainConsumer<T>(new SpscRing<T>(region, 0u));
                    startAll();
                    ThroughputLoops.Consume(ref port, ref consumed, warmup, warmupTime, phase, deadline, oversubscribed);
                    break;
                }

                default:
                {
                    var port = new MpscSlotConsumer<T>(new MpscRing<T>(region, 0u));
                    startAll();
                    ThroughputLoops.Consume(ref port, ref consumed, warmup, warmupTime, phase, deadline, oversubscribed);
                    break;
                }
            }

            return consumed;
        }
    }
}
