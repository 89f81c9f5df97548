using System.Globalization;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;
using Tmds.Linux;
using UintrIpc.Bootstrap;
using UintrIpc.Channels;
using UintrIpc.Interop;
using UintrIpc.Signaling;

namespace UintrIpc.TestPeer.Commands;

/// <summary>
/// Producers for the cross-process channel tests (test/UintrIpc.Tests/Channels). Values are
/// 0, 1, 2, ...: a slot channel of long carries them as elements; a message channel as 8-byte
/// little-endian payloads with type value % 7. Every command completes the channel at the end.
/// </summary>
internal static unsafe class ChannelCommands
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// channel-produce &lt;slot|message&gt; &lt;region fd&gt; &lt;doorbell fd|-&gt; &lt;bursts&gt; &lt;burst size&gt; &lt;pause ms&gt;:
    /// attaches to the channel from inherited descriptors and writes bursts of values with a
    /// pause after each (so that the consumer goes to sleep in between), then completes.
    /// </summary>
    [PeerCommand("channel-produce")]
    public static int Produce(string[] args)
    {
        int bursts = Int(args[3]), burst = Int(args[4]), pause = Int(args[5]);
        using var producer = Open(args[0], args[1], args[2]);
        long value = 0;
        for (int b = 0; b < bursts; b++)
        {
            for (int i = 0; i < burst; i++, value++)
            {
                if (!producer.Write(value, s_timeout))
                {
                    Console.Error.WriteLine($"value {value}: no room within {s_timeout.TotalSeconds} s; {producer.Counters}");
                    return 3;
                }
            }

            if (pause > 0)
            {
                Thread.Sleep(pause);
            }
        }

        producer.Complete();
        Console.WriteLine($"produced {value}; {producer.Counters}");
        return 0;
    }

    /// <summary>
    /// channel-produce-batched &lt;slot|message&gt; &lt;region fd&gt; &lt;doorbell fd|-&gt; &lt;count&gt; &lt;batch&gt;:
    /// writes the values 0 .. count - 1 through batched in-place claims of up to `batch` values
    /// (slot channels: TryClaim(count); message channels: TryClaimBatch), then completes.
    /// </summary>
    [PeerCommand("channel-produce-batched")]
    public static int ProduceBatched(string[] args)
    {
        int count = Int(args[3]), batch = Int(args[4]);
        using var producer = Open(args[0], args[1], args[2]);
        long value = 0;
        long lastProgress = Environment.TickCount64;
        while (value < count)
        {
            int written = producer.TryWriteBatch(value, (int)Math.Min(batch, count - value));
            if (written > 0)
            {
                value += written;
                lastProgress = Environment.TickCount64;
                continue;
            }

            if (Environment.TickCount64 - lastProgress > s_timeout.TotalMilliseconds)
            {
                Console.Error.WriteLine($"value {value}: no room within {s_timeout.TotalSeconds} s; {producer.Counters}");
                return 3;
            }

            Thread.Sleep(1);
        }

        producer.Complete();
        Console.WriteLine($"produced {value} in batches; {producer.Counters}");
        return 0;
    }

    /// <summary>
    /// channel-produce-traced &lt;region fd&gt; &lt;doorbell fd|-&gt; &lt;count&gt; &lt;control&gt;: for the strace test, on a
    /// dedicated thread: writes `count` values to warm up, then write(-1, "UIPC-BEGIN"), `count`
    /// values, write(-1, "UIPC-END") (the markers fail with EBADF but show in strace); then the
    /// control: for each of `control` values, waits until the consumer announced its sleep and
    /// writes it, between "UIPC-CONTROL-BEGIN" and "UIPC-CONTROL-END". Prints "tid N".
    /// </summary>
    [PeerCommand("channel-produce-traced")]
    public static int ProduceTraced(string[] args)
    {
        int count = Int(args[2]), control = Int(args[3]);
        using var producer = Open("slot", args[0], args[1]);
        var waitBlock = new WaitBlock(producer.Region);
        int tid = 0;
        string? failure = null;
        var thread = new Thread(() =>
        {
            tid = Sys.GetTid();
            long value = 0;
            for (int round = 0; round < 2; round++)
            {
                if (round == 1)
                {
                    Marker("UIPC-BEGIN"u8);
                }

                // Spin without system calls while the (spinning) consumer makes room. A raw pause,
                // not Thread.SpinWait: the runtime re-measures its normalised pause at most every
                // 4 s, scheduled from whichever thread spins through it next, which then wakes the
                // finalizer thread (a FUTEX_WAKE_PRIVATE of the runtime's on this thread whenever the
                // measured loop outlasts 4 s, as it does on a loaded machine).
                for (int i = 0; i < count; i++, value++)
                {
                    while (!producer.TryWrite(value))
                    {
                        Pause();
                    }
                }
            }

            Marker("UIPC-END"u8);
            Marker("UIPC-CONTROL-BEGIN"u8);
            for (int i = 0; i < control; i++, value++)
            {
                long start = Environment.TickCount64;
                while (!waitBlock.IsConsumerSleeping)
                {
                    if (Environment.TickCount64 - start > s_timeout.TotalMilliseconds)
                    {
                        failure = $"control {i}: the consumer did not go to sleep";
                        return;
                    }

                    Thread.Sleep(1);
                }

                if (!producer.TryWrite(value))
                {
                    failure = $"control {i}: the ring is full";
                    return;
                }
            }

            Marker("UIPC-CONTROL-END"u8);
        })
        { Name = "traced producer" };
        thread.Start();
        if (!thread.Join(TimeSpan.FromSeconds(120)))
        {
            Console.Error.WriteLine("the producer thread did not finish");
            return 4;
        }

        if (failure is not null)
        {
            Console.Error.WriteLine(failure);
            return 3;
        }

        producer.Complete();
        Console.WriteLine($"tid {tid}");
        Console.WriteLine($"produced {(2 * count) + control}; {producer.Counters}");
        return 0;
    }

    /// <summary>
    /// channel-bootstrap-produce &lt;slot|message&gt; &lt;endpoint&gt; &lt;count&gt;: connects to the consumer's
    /// bootstrap server, receives the channel with ChannelBootstrap, writes `count` values, completes.
    /// </summary>
    [PeerCommand("channel-bootstrap-produce")]
    public static int BootstrapProduce(string[] args)
    {
        int count = Int(args[2]);
        using var connection = BootstrapConnection.Connect(args[1], s_timeout);
        using var producer = args[0] == "slot"
            ? (ValueProducer)new SlotValueProducer(connection.ReceiveChannel<long>(s_timeout))
            : new MessageValueProducer(connection.ReceiveMessageChannel(s_timeout));
        for (long value = 0; value < count; value++)
        {
            if (!producer.Write(value, s_timeout))
            {
                Console.Error.WriteLine($"value {value}: no room");
                return 3;
            }
        }

        producer.Complete();
        Console.WriteLine($"produced {count} over {producer.Doorbell}");
        return 0;
    }

    /// <summary>
    /// channel-bootstrap-send-and-exit &lt;slot|message&gt; &lt;endpoint&gt;: the reader's side that
    /// leaves at once: listens, creates a channel, hands it to the first peer and exits without
    /// reading (a reader that crashed right after the handover).
    /// </summary>
    [PeerCommand("channel-bootstrap-send-and-exit")]
    public static int BootstrapSendAndExit(string[] args)
    {
        using var server = BootstrapServer.Listen(args[1]);
        Console.WriteLine("listening");
        using var connection = server.Accept(s_timeout);
        if (args[0] == "slot")
        {
            using var channel = IpcChannel.CreateBounded<long>(8);
            connection.SendChannel(channel);
        }
        else
        {
            using var channel = IpcChannel.CreateMessages();
            connection.SendChannel(channel);
        }

        Console.WriteLine("sent");
        return 0;
    }

    /// <summary>
    /// channel-bootstrap-send-and-read &lt;endpoint&gt;: the reader's side that lives on: listens,
    /// creates a slot channel of 8 longs, hands it to the first peer, prints "sent", then reads
    /// 0, 1, 2, ... until the channel completes and prints "read N" (exit 3 on a value out of order).
    /// </summary>
    [PeerCommand("channel-bootstrap-send-and-read")]
    public static int BootstrapSendAndRead(string[] args)
    {
        using var server = BootstrapServer.Listen(args[0]);
        Console.WriteLine("listening");
        using var channel = IpcChannel.CreateBounded<long>(8);
        var reader = channel.Reader;
        using (var connection = server.Accept(s_timeout))
        {
            connection.SendChannel(channel);
        }

        Console.WriteLine("sent");
        long next = 0;
        while (reader.TryRead(out long value, s_timeout))
        {
            if (value != next)
            {
                Console.Error.WriteLine($"value {value}, expected {next}");
                return 3;
            }

            next++;
        }

        Console.WriteLine($"read {next} completed {reader.IsCompleted}");
        return reader.IsCompleted ? 0 : 4;
    }

    /// <summary>
    /// channel-produce-until-completed &lt;slot|message&gt; &lt;name&gt; &lt;producer id&gt;: opens the named
    /// multi-producer channel and writes (id &lt;&lt; 32 | seq) for seq = 0, 1, ... until a write
    /// returns false because the channel was completed (a full ring is retried). Prints
    /// "started" after the first write and "wrote N", N the writes that returned true.
    /// </summary>
    [PeerCommand("channel-produce-until-completed")]
    public static int ProduceUntilCompleted(string[] args)
    {
        long id = Int(args[2]);
        using var producer = args[0] == "slot"
            ? (ValueProducer)new SlotValueProducer(IpcChannel.OpenNamed<long>(args[1]))
            : new MessageValueProducer(IpcChannel.OpenNamedMessages(args[1]));
        long seq = 0;
        var lastProgress = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            if (producer.TryWrite((id << 32) | seq))
            {
                if (seq++ == 0)
                {
                    Console.WriteLine("started");
                }

                lastProgress.Restart();
            }
            else if (producer.IsCompleted)
            {
                if (producer.TryWrite(-1))
                {
                    Console.Error.WriteLine("a write after the completion returned true");
                    return 4;
                }

                break;
            }
            else if (lastProgress.Elapsed > s_timeout)
            {
                Console.Error.WriteLine($"no room for {s_timeout.TotalSeconds} s after {seq} writes");
                return 3;
            }
            else
            {
                Thread.SpinWait(10);
            }
        }

        Console.WriteLine($"wrote {seq}");
        return 0;
    }

    /// <summary>
    /// channel-dispose-open &lt;slot|message&gt; &lt;region fd&gt; &lt;doorbell fd|-&gt;: opens a claim
    /// (slot: a batch of one slot, filled with 100; message: a batch with one record appended) and prints
    /// "claimed"; on "dispose" (stdin) disposes the channel with the claim open and prints
    /// "disposed"; exits on "exit", alive until then (test/UintrIpc.Tests/Channels/ChannelDisposeOpenTests).
    /// </summary>
    [PeerCommand("channel-dispose-open")]
    public static int DisposeWithClaimOpen(string[] args)
    {
        var producer = Open(args[0], args[1], args[2]);
        bool held = producer.HoldClaimWhile(() =>
        {
            Console.WriteLine("claimed");
            if (Console.ReadLine() != "dispose")
            {
                return false;
            }

            producer.Dispose();
            Console.WriteLine("disposed");
            return true;
        });
        return held && Console.ReadLine() == "exit" ? 0 : 3;
    }

    private static ValueProducer Open(string kind, string regionFd, string doorbellFd)
    {
        using var region = new SafeFdHandle(Int(regionFd), ownsHandle: true); // inherited: ours to close
        using SafeFdHandle? doorbell = doorbellFd == "-" ? null : new SafeFdHandle(Int(doorbellFd), ownsHandle: true);
        return kind == "slot"
            ? new SlotValueProducer(IpcChannel.AttachWriter<long>(region, doorbell))
            : new MessageValueProducer(IpcChannel.AttachMessagesWriter(region, doorbell));
    }

    private static void Pause()
    {
        for (int i = 0; i < 20; i++)
        {
            if (X86Base.IsSupported)
            {
                X86Base.Pause();
            }
            else if (ArmBase.IsSupported)
            {
                ArmBase.Yield();
            }
        }
    }

    private static void Marker(ReadOnlySpan<byte> text)
    {
        fixed (byte* p = text)
        {
            _ = LibC.write(-1, p, text.Length); // EBADF by design: only strace sees it
        }
    }

    private static int Int(string s) => int.Parse(s, CultureInfo.InvariantCulture);

    private abstract class ValueProducer : IDisposable
    {
        public abstract Memory.SharedRegion Region { get; }

        public abstract DoorbellKind Doorbell { get; }

        public abstract WaitBlockCounters Counters { get; }

        public abstract bool IsCompleted { get; }

        public abstract bool TryWrite(long value);

        public abstract bool Write(long value, TimeSpan timeout);

        /// <summary>Writes first, first + 1, ... with one batched claim of up to <paramref name="count"/>; returns how many.</summary>
        public abstract int TryWriteBatch(long first, int count);

        public abstract void Complete();

        /// <summary>Opens an in-place claim, runs <paramref name="whileOpen"/>, then disposes the claim; false when no claim or <paramref name="whileOpen"/> said so.</summary>
        public abstract bool HoldClaimWhile(Func<bool> whileOpen);

        public abstract void Dispose();
    }

    private sealed class SlotValueProducer(IpcChannel<long> channel) : ValueProducer
    {
        private readonly IpcChannelWriter<long> producer = channel.Writer;

        public override Memory.SharedRegion Region => channel.Region;

        public override DoorbellKind Doorbell => producer.Doorbell;

        public override WaitBlockCounters Counters => producer.Counters;

        public override bool IsCompleted => producer.IsCompleted;

        public override bool TryWrite(long value) => producer.TryWrite(value);

        public override bool Write(long value, TimeSpan timeout) => producer.TryWrite(value, timeout);

        public override int TryWriteBatch(long first, int count)
        {
            bool claimed = producer.TryClaim(count, out SlotBatch<long> batch);
            return SequenceBatches.FillAndPublish(claimed, ref batch, first);
        }

        public override void Complete() => producer.Complete();

        public override bool HoldClaimWhile(Func<bool> whileOpen)
        {
            if (!producer.TryClaim(1, out SlotBatch<long> claim))
            {
                return false;
            }

            using (claim)
            {
                claim[0] = 100;
                return whileOpen();
            }
        }

        public override void Dispose() => channel.Dispose();
    }

    private sealed class MessageValueProducer(IpcMessageChannel channel) : ValueProducer
    {
        private readonly IpcMessageWriter producer = channel.Writer;

        public override Memory.SharedRegion Region => channel.Region;

        public override DoorbellKind Doorbell => producer.Doorbell;

        public override WaitBlockCounters Counters => producer.Counters;

        public override bool IsCompleted => producer.IsCompleted;

        public override bool TryWrite(long value)
        {
            long v = value;
            return producer.TryWrite((int)(value % 7), new ReadOnlySpan<byte>(&v, sizeof(long)));
        }

        public override bool Write(long value, TimeSpan timeout)
        {
            long v = value;
            return producer.TryWrite((int)(value % 7), new ReadOnlySpan<byte>(&v, sizeof(long)), timeout);
        }

        public override int TryWriteBatch(long first, int count)
        {
            if (!producer.TryClaimBatch(count * 24, out RecordBatch batch)) // 8 header + 8 value bytes each, + 4 with checksums (aligned to 8)
            {
                return 0;
            }

            using (batch)
            {
                long value = first;
                while (value - first < count && batch.TryAppend((int)(value % 7), sizeof(long), out Span<byte> payload))
                {
                    BitConverter.TryWriteBytes(payload, value++);
                }

                batch.Commit();
                return batch.Count;
            }
        }

        public override void Complete() => producer.Complete();

        public override bool HoldClaimWhile(Func<bool> whileOpen)
        {
            if (!producer.TryClaimBatch(64, out RecordBatch batch))
            {
                return false;
            }

            using (batch)
            {
                if (!batch.TryAppend(1, sizeof(long), out Span<byte> payload))
                {
                    return false;
                }

                BitConverter.TryWriteBytes(payload, 100L);
                return whileOpen();
            }
        }

        public override void Dispose() => channel.Dispose();
    }
}
