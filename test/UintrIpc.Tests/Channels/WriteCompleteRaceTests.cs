using System.Diagnostics;
using System.Globalization;
using UintrIpc.Channels;
using UintrIpc.Signaling;
using UintrIpc.Tests.Infrastructure;
using UintrIpc.Tests.Signaling;

namespace UintrIpc.Tests.Channels;

/// <summary>
/// Issue 7, finding 5: a write and a completion are linearizable, as in System.Threading.Channels:
/// a write that returned true is read by a consumer that reads until the end, and after the
/// completion every write returns false. Several producer threads write while another completes
/// at a random moment; the counts must match exactly, per producer and in order.
/// </summary>
public sealed class WriteCompleteRaceTests(ITestOutputHelper output)
{
    private const int Producers = 3;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Every_write_that_returned_true_is_read_and_none_after_the_completion(bool messages)
    {
        const int Rounds = 150;
        var random = new Random(20261203);
        long totalWritten = 0, refusedAfterCompletion = 0;
        for (int round = 0; round < Rounds; round++)
        {
            int completeAfter = random.Next(0, 3000);
            var (written, received, refused) = RunRound(messages, completeAfter);
            for (int p = 0; p < Producers; p++)
            {
                Assert.True(written[p] == received[p].Count,
                    $"round {round}: producer {p} had {written[p]} writes return true, the consumer read {received[p].Count}");
                for (int i = 0; i < received[p].Count; i++)
                {
                    Assert.Equal(i, received[p][i]); // per-producer order, no gap, no duplicate
                }

                totalWritten += written[p];
            }

            refusedAfterCompletion += refused;
        }

        output.WriteLine($"{Rounds} rounds: {totalWritten} writes read exactly once; {refusedAfterCompletion} writes refused after the completion");
    }

    private static (long[] Written, List<long>[] Received, long Refused) RunRound(bool messages, int completeAfter)
    {
        var written = new long[Producers];
        var received = Enumerable.Range(0, Producers).Select(_ => new List<long>()).ToArray();
        long refused = 0;
        new TestThread(() =>
        {
            using var c = ChannelUnderTest.Create(messages, DoorbellKind.Futex, multipleProducers: true, capacity: 64,
                new ChannelWaitOptions { MaxParkTime = TimeSpan.FromSeconds(20) });
            using var go = new ManualResetEventSlim();
            var producers = Enumerable.Range(0, Producers).Select(p => new TestThread(() =>
            {
                go.Wait(TestWait.Long);
                long seq = 0;
                while (true)
                {
                    if (c.TryWrite(((long)p << 32) | seq))
                    {
                        seq++;
                    }
                    else if (c.IsChannelCompleted)
                    {
                        // Linearizable: once a write saw the completion, so does every later one.
                        Assert.False(c.TryWrite(-1));
                        Interlocked.Increment(ref refused);
                        break;
                    }
                    else
                    {
                        Thread.SpinWait(10); // full: the consumer makes room
                    }
                }

                written[p] = seq;
            }, $"producer {p}")).ToList();
            var completer = new TestThread(() =>
            {
                go.Wait(TestWait.Long);
                Thread.SpinWait(completeAfter);
                Assert.True(c.TryComplete());
            }, "completer");

            go.Set();
            while (c.TryRead(out long value, TimeSpan.FromSeconds(20)))
            {
                received[(int)(value >> 32)].Add(value & 0xFFFF_FFFF);
            }

            Assert.True(c.IsConsumerCompleted, "a read timed out instead of seeing the end");
            producers.ForEach(t => t.Join());
            completer.Join();
            Assert.False(c.TryRead(out _), "a write landed after the consumer saw the end");
            Assert.Equal(0ul, c.Counters.Timeouts); // no 20 s park ran out: the end never waited for a timeout
        }, "consumer").Join(TimeSpan.FromSeconds(60));
        return (written, received, refused);
    }
}

/// <summary>
/// Finding 5 across processes: several producer processes write into one multi-producer channel
/// until their writes return false, while this process completes it at a random moment. Each
/// producer's count of writes that returned true must equal what the consumer read from it.
/// </summary>
[Collection(CrossProcessCollection.Name)]
public sealed class WriteCompleteCrossProcessTests(ITestOutputHelper output) : IDisposable
{
    private readonly ShmNames _names = new();

    public void Dispose() => _names.Dispose();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Producer_processes_lose_no_write_that_returned_true(bool messages)
    {
        const int Producers = 3;
        string name = _names.New("write-complete");
        var options = new IpcChannelOptions { Capacity = 256, BufferSize = 4096, MaxMessageLength = 8, MultipleWriters = true, Doorbell = DoorbellKind.Futex };
        var received = Enumerable.Range(0, Producers).Select(_ => new List<long>()).ToArray();
        new TestThread(() =>
        {
            using var c = messages ? new NamedMessages(name, options) : (INamedChannel)new NamedSlots(name, options);
            var peers = Enumerable.Range(0, Producers)
                .Select(p => PeerProcess.Start(output, "channel-produce-until-completed", messages ? "message" : "slot", name, p.ToString(CultureInfo.InvariantCulture)))
                .ToList();
            try
            {
                // Complete at a random moment once every producer is writing (reading meanwhile:
                // a full ring would keep a late producer from its first write).
                long stopAt = 0;
                var startDeadline = Stopwatch.StartNew();
                while (!peers.TrueForAll(peer => peer.StandardOutput.Contains("started", StringComparison.Ordinal)))
                {
                    Assert.True(startDeadline.Elapsed < TimeSpan.FromSeconds(60), "a producer did not start writing");
                    stopAt += c.Read(received, 64);
                }

                stopAt += c.Read(received, Random.Shared.Next(1000, 20_000));
                Assert.True(c.TryComplete());
                output.WriteLine($"completed after {stopAt} reads");
                c.Read(received, long.MaxValue);
                Assert.True(c.IsConsumerCompleted);
                peers.ForEach(peer => peer.AssertSuccess());
            }
            finally
            {
                peers.ForEach(peer => peer.Dispose());
            }

            for (int p = 0; p < Producers; p++)
            {
                long wrote = long.Parse(peers[p].StandardOutput.Split('\n').Single(l => l.StartsWith("wrote ", StringComparison.Ordinal))[6..].Trim(), CultureInfo.InvariantCulture);
                output.WriteLine($"producer {p}: wrote {wrote}, read {received[p].Count}");
                Assert.Equal(wrote, received[p].Count);
                Assert.Equal(Enumerable.Range(0, received[p].Count).Select(i => (long)i), received[p]);
            }
        }, "consumer").Join(TimeSpan.FromSeconds(120));
    }

    private interface INamedChannel : IDisposable
    {
        bool IsConsumerCompleted { get; }

        /// <summary>Reads into per-producer lists until <paramref name="limit"/> values or the end; returns how many.</summary>
        long Read(List<long>[] received, long limit);

        bool TryComplete();
    }

    private sealed class NamedSlots(string name, IpcChannelOptions options) : INamedChannel
    {
        private readonly IpcChannel<long> _channel = IpcChannel.CreateBounded<long>(options with { Name = name });
        private IpcChannelReader<long>? _consumer;
        private IpcChannelWriter<long>? _completer;

        public bool IsConsumerCompleted => Consumer.IsCompleted;

        private IpcChannelReader<long> Consumer => _consumer ??= _channel.Reader;

        public long Read(List<long>[] received, long limit)
        {
            long n = 0;
            while (n < limit && Consumer.TryRead(out long value, TimeSpan.FromSeconds(30)))
            {
                received[(int)(value >> 32)].Add(value & 0xFFFF_FFFF);
                n++;
            }

            return n;
        }

        public bool TryComplete() => (_completer ??= _channel.Writer).TryComplete();

        public void Dispose()
        {
            _completer?.Dispose();
            _consumer?.Dispose();
            _channel.Dispose();
        }
    }

    private sealed class NamedMessages(string name, IpcChannelOptions options) : INamedChannel
    {
        private readonly IpcMessageChannel _channel = IpcChannel.CreateMessages(options with { Name = name });
        private readonly byte[] _buffer = new byte[8];
        private IpcMessageReader? _consumer;
        private IpcMessageWriter? _completer;

        public bool IsConsumerCompleted => Consumer.IsCompleted;

        private IpcMessageReader Consumer => _consumer ??= _channel.Reader;

        public long Read(List<long>[] received, long limit)
        {
            long n = 0;
            while (n < limit && Consumer.TryRead(out _, _buffer, out int length, TimeSpan.FromSeconds(30)))
            {
                Assert.Equal(8, length);
                long value = BitConverter.ToInt64(_buffer);
                received[(int)(value >> 32)].Add(value & 0xFFFF_FFFF);
                n++;
            }

            return n;
        }

        public bool TryComplete() => (_completer ??= _channel.Writer).TryComplete();

        public void Dispose()
        {
            _completer?.Dispose();
            _consumer?.Dispose();
            _channel.Dispose();
        }
    }
}
