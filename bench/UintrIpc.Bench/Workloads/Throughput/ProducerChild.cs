using System.IO.Pipes;
using System.Net.Sockets;
using UintrIpc.Bench.Processes;
using UintrIpc.Memory;
using UintrIpc.Rings;

namespace UintrIpc.Bench.Workloads.Throughput;

/// <summary>The child role "produce": one producer of a throughput test.</summary>
internal static unsafe class ProducerChild
{
    public static void Run(ChildArgs args, ChildChannel channel, Deadline deadline)
    {
        var transport = args.GetEnum<ThroughputTransport>("transport");
        int size = args.GetInt("size");
        int id = args.GetInt("id");
        long count = args.GetLong("count");
        bool oversubscribed = bool.Parse(args.Get("oversubscribed"));
        bool batched = bool.Parse(args.Get("batched"));
        using var region = BenchRegions.Open(args);
        BenchRegions.Prefault(region);
        var gate = StartGate.In(BenchRegions.Control(region), args.GetInt("producers"));
        ProducerOutcome outcome;
        switch (transport)
        {
            case ThroughputTransport.MpscRecord when batched:
            {
                var port = new RecordRunProducer(new RecordRing(region, 0u), size);
                channel.Ready();
                outcome = ThroughputLoops.Produce(ref port, id, count, gate, deadline, oversubscribed);
                break;
            }

            case ThroughputTransport.SpscRecord when batched:
            {
                var port = new RecordBatchProducer(new RecordRing(region, 0u), size);
                channel.Ready();
                outcome = ThroughputLoops.Produce(ref port, id, count, gate, deadline, oversubscribed);
                break;
            }

            case ThroughputTransport.SpscRecord:
            {
                var port = new SpscRecordProducer(new RecordRing(region, 0u), size);
                channel.Ready();
                outcome = ThroughputLoops.Produce(ref port, id, count, gate, deadline, oversubscribed);
                break;
            }

            case ThroughputTransport.MpscRecord:
            {
                var port = new MpscRecordProducer(new RecordRing(region, 0u), size);
                channel.Ready();
                outcome = ThroughputLoops.Produce(ref port, id, count, gate, deadline, oversubscribed);
                break;
            }

            case ThroughputTransport.Pipe:
            {
                using var pipe = new AnonymousPipeClientStream(PipeDirection.Out, args.Get("pipe"));
                var port = new StreamProducer(pipe, size);
                channel.Ready();
                outcome = ThroughputLoops.Produce(ref port, id, count, gate, deadline, oversubscribed);
                break;
            }

            case ThroughputTransport.Socket:
            {
                using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                socket.Connect(SocketIo.EndPoint(args.Get("endpoint")));
                var port = new SocketProducer(socket, size);
                channel.Ready();
                outcome = ThroughputLoops.Produce(ref port, id, count, gate, deadline, oversubscribed);
                break;
            }

            default:
                outcome = ElementSize.With<SlotProduceAction, ProducerOutcome>(size, new SlotProduceAction(region, batched, channel, id, count, gate, deadline, oversubscribed));
                break;
        }

        // after_span: whether the consumer's span had ended when this producer reported (StartGate.WaitForSpanEnd).
        channel.Result(new { messages = outcome.Messages, warmup_messages = outcome.WarmupMessages, cpu_ns = outcome.CpuNanoseconds, wall_ns = outcome.WallNanoseconds, full_polls = outcome.FullPolls, after_span = gate.SpanOver });
    }

    private readonly struct SlotProduceAction(
        SharedRegion region, bool batched, ChildChannel channel, int id, long count, StartGate gate, Deadline deadline, bool oversubscribed)
        : IElementAction<ProducerOutcome>
    {
        public ProducerOutcome Invoke<T>() where T : unmanaged
        {
            if (batched) // SPSC or MPSC: the ring knows
            {
                var port = new SlotBatchProducer<T>(new SlotRing<T>(region, 0u));
                channel.Ready();
                return ThroughputLoops.Produce(ref port, id, count, gate, deadline, oversubscribed);
            }
            else
            {
                var port = new SlotProducer<T>(new SlotRing<T>(region, 0u)); // SPSC or MPSC, as above
                channel.Ready();
                return ThroughputLoops.Produce(ref port, id, count, gate, deadline, oversubscribed);
            }
        }
    }
}
