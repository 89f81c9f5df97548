using System.Diagnostics;
using System.Globalization;
using UintrIpc.Channels;
using UintrIpc.Interop;

namespace UintrIpc.TestPeer.Commands;

/// <summary>
/// The victim of the hostile-writer tests (test/UintrIpc.Tests/Trust/HostileWriterTests.cs): a
/// channel with a producer thread and a consumer thread in this process, while a C program
/// (test/native/hostile_writer.c) writes into the region.
/// </summary>
internal static class HostileCommands
{
    private static readonly TimeSpan StdinTimeout = TimeSpan.FromSeconds(60);

    /// <summary>Bound on one write or one read; a side that makes no progress for this long stops.</summary>
    private static readonly TimeSpan StepTimeout = TimeSpan.FromSeconds(2);

    /// <summary>
    /// hostile-victim &lt;slots|messages&gt; &lt;spsc|mpsc&gt; &lt;doorbell&gt; &lt;name|-&gt; &lt;capacity&gt;: creates the channel
    /// (named, or a memfd for "-"), sends and reads 3 * capacity values (the ring has wrapped),
    /// prints "ready pid P producer-tid T consumer-tid C fd F", waits for "go" on stdin (the
    /// hostile writer acts meanwhile; the consumer keeps waiting for data, re-checking the ring
    /// every millisecond), then sends 2 * capacity more values and reads them. Prints
    /// "result written W delivered D in-order yes|no producer-error ... consumer-error ..." and
    /// exits 0, whatever the region held: an exception is a result, not a crash.
    /// </summary>
    [PeerCommand("hostile-victim")]
    public static int Victim(string[] args)
    {
        bool messages = args[0] == "messages";
        var options = new IpcChannelOptions
        {
            MultipleWriters = args[1] == "mpsc",
            Doorbell = Enum.Parse<DoorbellKind>(args[2], ignoreCase: true),
            Capacity = int.Parse(args[4], CultureInfo.InvariantCulture),
            BufferSize = int.Parse(args[4], CultureInfo.InvariantCulture) * 16,
            MaxMessageLength = 8,
            Wait = new ChannelWaitOptions { MaxParkTime = TimeSpan.FromMilliseconds(1) },
        };
        string? name = args[3] == "-" ? null : args[3];
        int capacity = options.Capacity;
        using var victim = messages ? (VictimChannel)new MessageVictim(name, options) : new SlotVictim(name, options);

        long warm = 3L * capacity, more = 2L * capacity;
        var consumerReady = new ManualResetEventSlim();
        var go = new ManualResetEventSlim();
        int consumerTid = 0;
        long delivered = 0;
        bool inOrder = true;
        string consumerError = "none";
        var consumer = new Thread(() =>
        {
            try
            {
                consumerTid = Sys.GetTid();
                victim.CreateConsumer(); // on this thread: signal doorbells belong to the reading thread
                consumerReady.Set();
                long lastProgress = Stopwatch.GetTimestamp();
                bool released = false;
                while (delivered < warm + more)
                {
                    if (victim.TryRead(out long value, TimeSpan.FromMilliseconds(10)))
                    {
                        inOrder &= value == delivered;
                        delivered++;
                        lastProgress = Stopwatch.GetTimestamp();
                        continue;
                    }

                    released |= go.IsSet;
                    if (released && Stopwatch.GetElapsedTime(lastProgress) > StepTimeout)
                    {
                        consumerError = $"timeout: nothing to read for {StepTimeout.TotalSeconds} s";
                        return;
                    }

                    if (!released)
                    {
                        lastProgress = Stopwatch.GetTimestamp(); // quiet on purpose until "go"
                    }
                }
            }
            catch (Exception e)
            {
                consumerError = Describe(e);
            }
            finally
            {
                consumerReady.Set();
            }
        })
        { Name = "victim consumer", IsBackground = true };
        consumer.Start();
        if (!consumerReady.Wait(StdinTimeout))
        {
            Console.Error.WriteLine("the consumer did not start");
            return 4;
        }

        int producerTid = Sys.GetTid();
        long written = 0;
        string producerError = "none";
        try
        {
            victim.CreateProducer();
            for (; written < warm; written++)
            {
                if (!victim.Write(written, StepTimeout))
                {
                    producerError = $"timeout: no room for value {written} within {StepTimeout.TotalSeconds} s (warm-up)";
                    break;
                }
            }

            // Quiescent: everything written was read, the consumer waits for more.
            var sinceProgress = Stopwatch.StartNew();
            while (Volatile.Read(ref delivered) < written && sinceProgress.Elapsed < StepTimeout)
            {
                Thread.Sleep(1);
            }

            Console.WriteLine($"ready pid {Environment.ProcessId} producer-tid {producerTid} consumer-tid {consumerTid} fd {victim.RegionFd}");
            if (!WaitForLine("go"))
            {
                Console.Error.WriteLine("no 'go' on stdin");
                return 4;
            }

            go.Set();
            for (; producerError == "none" && written < warm + more; written++)
            {
                if (!victim.Write(written, StepTimeout))
                {
                    producerError = $"timeout: no room for value {written} within {StepTimeout.TotalSeconds} s";
                    break;
                }
            }
        }
        catch (Exception e)
        {
            producerError = Describe(e);
        }

        go.Set();
        if (!consumer.Join(StepTimeout * 4))
        {
            consumerError = "hang: the consumer thread did not finish";
        }

        Console.WriteLine($"result written {written} delivered {Volatile.Read(ref delivered)} in-order {(inOrder ? "yes" : "no")}");
        Console.WriteLine($"producer-error {producerError}");
        Console.WriteLine($"consumer-error {consumerError}");
        return 0;
    }

    private static string Describe(Exception e) => $"{e.GetType().Name}: {e.Message.ReplaceLineEndings(" ")}";

    private static bool WaitForLine(string expected)
    {
        var read = Task.Run(() =>
        {
            string? line;
            while ((line = Console.ReadLine()) is not null)
            {
                if (line.Trim() == expected)
                {
                    return true;
                }
            }

            return false;
        });
        return read.Wait(StdinTimeout) && read.Result;
    }

    /// <summary>A channel with one producer and one consumer, carrying the values 0, 1, 2, ...</summary>
    private abstract class VictimChannel : IDisposable
    {
        /// <summary>
        /// Disposes the writer, the region and its name. The reader belongs to the consumer thread
        /// (signal doorbell): disposed from here, it throws after the rest was released, and is left to the process exit.
        /// </summary>
        protected static void DisposeChannel(IDisposable channel)
        {
            try
            {
                channel.Dispose();
            }
            catch (InvalidOperationException)
            {
            }
        }

        public abstract int RegionFd { get; }

        public abstract void CreateConsumer();

        public abstract void CreateProducer();

        public abstract bool Write(long value, TimeSpan timeout);

        public abstract bool TryRead(out long value, TimeSpan timeout);

        public abstract void Dispose();
    }

    private sealed class SlotVictim(string? name, IpcChannelOptions options) : VictimChannel
    {
        private readonly IpcChannel<long> _channel = IpcChannel.CreateBounded<long>(options with { Name = name });
        private IpcChannelReader<long>? _consumer;
        private IpcChannelWriter<long>? _producer;

        public override int RegionFd => (int)_channel.Region.FileHandle.DangerousGetHandle();

        public override void CreateConsumer() => _consumer = _channel.Reader;

        public override void CreateProducer() => _producer = _channel.Writer;

        public override bool Write(long value, TimeSpan timeout) => _producer!.TryWrite(value, timeout);

        public override bool TryRead(out long value, TimeSpan timeout) => _consumer!.TryRead(out value, timeout);

        public override void Dispose() => DisposeChannel(_channel);
    }

    private sealed unsafe class MessageVictim(string? name, IpcChannelOptions options) : VictimChannel
    {
        private readonly IpcMessageChannel _channel = IpcChannel.CreateMessages(options with { Name = name });
        private readonly byte[] _buffer = new byte[8];
        private IpcMessageReader? _consumer;
        private IpcMessageWriter? _producer;

        public override int RegionFd => (int)_channel.Region.FileHandle.DangerousGetHandle();

        public override void CreateConsumer() => _consumer = _channel.Reader;

        public override void CreateProducer() => _producer = _channel.Writer;

        public override bool Write(long value, TimeSpan timeout)
            => _producer!.TryWrite((int)(value % 7), new ReadOnlySpan<byte>(&value, sizeof(long)), timeout);

        public override bool TryRead(out long value, TimeSpan timeout)
        {
            value = -1;
            if (!_consumer!.TryRead(out int type, _buffer, out int length, timeout))
            {
                return false;
            }

            if (length == sizeof(long))
            {
                value = BitConverter.ToInt64(_buffer);
                if (type != (int)(value % 7))
                {
                    value = -1; // a type that does not match its value: counted as out of order
                }
            }

            return true;
        }

        public override void Dispose() => DisposeChannel(_channel);
    }
}
