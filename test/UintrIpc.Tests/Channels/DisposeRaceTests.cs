using System.Diagnostics;
using System.Threading.Channels;
using UintrIpc.Channels;

namespace UintrIpc.Tests.Channels;

/// <summary>
/// A shutdown thread disposes channel ends while other threads spin non-blocking calls on them
/// (TryRead, TryRead(span), TryWrite, TryWrite(span), TryClaim). Such a call is not waited for:
/// it may read the memory that replaced the retired mapping (zeros). It used to report that as
/// <see cref="RingCorruptedException"/>, as if a peer had written garbage (12 of 200 runs of
/// slot TryRead(span) loops), and a user's shutdown then logged "ring corrupted". The accepted
/// outcomes are <see cref="ObjectDisposedException"/> and, on a side whose peer end was
/// disposed first, <see cref="ChannelClosedException"/> (<see cref="PeerGoneException"/>).
/// </summary>
public sealed class DisposeRaceTests(ITestOutputHelper output)
{
    private const int Runs = 300;
    private const int Capacity = 16;
    /// <summary>Bound on a run's wait for progress, measured from the last progress seen.</summary>
    private static readonly TimeSpan ProgressBound = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public void A_dispose_racing_non_blocking_slot_calls_never_reports_corruption(bool multipleWriters, bool checksums)
    {
        var outcomes = new Outcomes();
        for (int run = 0; run < Runs; run++)
        {
            var channel = IpcChannel.CreateBounded<long>(new IpcChannelOptions
            {
                Capacity = Capacity, Doorbell = DoorbellKind.Futex, MultipleWriters = multipleWriters, Checksums = checksums,
            });
            IpcChannelReader<long> reader = channel.Reader;
            IpcChannelWriter<long> writer = channel.Writer;
            var buffer = new long[4];
            Action read = (run % 2) switch
            {
                0 => () => reader.TryRead(buffer.AsSpan()),
                _ => () => reader.TryRead(out long _),
            };
            Action write = (run / 2 % 3) switch
            {
                0 => () => writer.TryWrite(7),
                1 => () => writer.TryWrite([1L, 2L, 3L]),
                _ => () =>
                {
                    if (writer.TryClaim(2, out SlotBatch<long> batch))
                    {
                        for (int i = 0; i < batch.Count; i++)
                        {
                            batch[i] = i; // a batch may hold fewer slots than asked for (the room there was)
                        }

                        batch.Publish();
                    }
                },
            };
            RaceOneRun(run, read, write, reader.Dispose, writer.Dispose, channel.Dispose, outcomes);
        }

        AssertNoCorruption(outcomes);
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public void A_dispose_racing_non_blocking_message_calls_never_reports_corruption(bool multipleWriters, bool checksums)
    {
        var outcomes = new Outcomes();
        byte[] payload = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
        for (int run = 0; run < Runs; run++)
        {
            var channel = IpcChannel.CreateMessages(new IpcChannelOptions
            {
                BufferSize = 1024, Doorbell = DoorbellKind.Futex, MultipleWriters = multipleWriters, Checksums = checksums,
            });
            IpcMessageReader reader = channel.Reader;
            IpcMessageWriter writer = channel.Writer;
            var buffer = new byte[128];
            Action read = () => reader.TryRead(out int _, buffer, out int _);
            Action write = (run / 2 % 2) switch
            {
                0 => () => writer.TryWrite(3, payload),
                _ => () =>
                {
                    if (writer.TryClaim(3, payload.Length, out MessageClaim claim))
                    {
                        payload.CopyTo(claim.Payload);
                        claim.Commit();
                    }
                },
            };
            RaceOneRun(run, read, write, reader.Dispose, writer.Dispose, channel.Dispose, outcomes);
        }

        AssertNoCorruption(outcomes);
    }

    /// <summary>
    /// A reader thread and a writer thread spin their call until it throws; once the reader has
    /// gone round the ring twice (a lap: zeros no longer read as "not yet"), this thread disposes
    /// the ends, in an order that varies with the run (the end disposed last retires the mapping,
    /// so each side gets runs where it is the one racing the retirement).
    /// </summary>
    private static void RaceOneRun(int run, Action read, Action write, Action disposeReader, Action disposeWriter, Action disposeChannel, Outcomes outcomes)
    {
        long reads = 0;
        var stop = new StrongBox<bool>();
        var readerEnd = new Ended();
        var writerEnd = new Ended();
        var readerThread = Spin("reader", read, () => Interlocked.Increment(ref reads), stop, readerEnd);
        var writerThread = Spin("writer", write, () => { }, stop, writerEnd);
        try
        {
            var sinceProgress = Stopwatch.StartNew();
            long seen = 0;
            while (Volatile.Read(ref reads) < 2 * Capacity)
            {
                Assert.Null(readerEnd.Failure);
                Assert.Null(writerEnd.Failure);
                long now = Volatile.Read(ref reads);
                if (now != seen)
                {
                    seen = now;
                    sinceProgress.Restart();
                }

                Assert.True(sinceProgress.Elapsed < ProgressBound, $"run {run}: the reader made no progress for {ProgressBound} ({now} calls)");
                Thread.Yield();
            }

            Action[] order = (run % 3) switch
            {
                0 => [disposeWriter, disposeChannel, disposeReader],
                1 => [disposeReader, disposeChannel, disposeWriter],
                _ => [disposeChannel],
            };
            foreach (Action dispose in order)
            {
                dispose();
            }

            Assert.True(readerThread.Join(ProgressBound), $"run {run}: the reader's call did not end after the Dispose");
            Assert.True(writerThread.Join(ProgressBound), $"run {run}: the writer's call did not end after the Dispose");
        }
        finally
        {
            Volatile.Write(ref stop.Value, true);
            disposeChannel(); // idempotent; releases the memfd and mapping also when an assertion failed above
            readerThread.Join(ProgressBound);
            writerThread.Join(ProgressBound);
        }

        outcomes.Add("reader", readerEnd.Failure);
        outcomes.Add("writer", writerEnd.Failure);
    }

    private static Thread Spin(string name, Action call, Action progress, StrongBox<bool> stop, Ended ended)
    {
        var thread = new Thread(() =>
        {
            try
            {
                while (!Volatile.Read(ref stop.Value))
                {
                    call();
                    progress();
                }
            }
            catch (Exception e)
            {
                ended.Failure = e;
            }
        }) { IsBackground = true, Name = $"dispose-race {name}" };
        thread.Start();
        return thread;
    }

    private void AssertNoCorruption(Outcomes outcomes)
    {
        output.WriteLine(outcomes.ToString());
        Assert.Equal(0, outcomes.Count(typeof(RingCorruptedException)));
        Assert.All(outcomes.Types, t => Assert.True(
            t == typeof(ObjectDisposedException) || typeof(ChannelClosedException).IsAssignableFrom(t),
            $"unexpected outcome {t.Name}: {outcomes}"));
    }

    private sealed class Ended
    {
        public Exception? Failure;
    }

    private sealed class StrongBox<T>
    {
        public T? Value;
    }

    /// <summary>How each side's loop ended, counted by exception type (an example message kept for the report).</summary>
    private sealed class Outcomes
    {
        private readonly Dictionary<(string Side, Type Type), (int Count, string Example)> _counts = [];

        public IEnumerable<Type> Types => _counts.Keys.Select(k => k.Type).Distinct();

        public void Add(string side, Exception? failure)
        {
            // A loop only ends by an exception (the stop flag is set after the joins): none is a failure to end.
            Type type = failure?.GetType() ?? typeof(void);
            if (failure is ObjectDisposedException { Message: var message } disposed && message.Contains("while this call ran", StringComparison.Ordinal))
            {
                // A call that read the retired mapping (the old RingCorruptedException): it names the end, not a bare ring.
                Assert.StartsWith("UintrIpc.Channels.Ipc", disposed.ObjectName, StringComparison.Ordinal);
                side += " (raced the retirement)";
            }

            _counts[(side, type)] = _counts.TryGetValue((side, type), out var c) ? (c.Count + 1, c.Example) : (1, failure?.Message ?? "");
        }

        public int Count(Type type) => _counts.Where(k => k.Key.Type == type).Sum(k => k.Value.Count);

        public override string ToString()
            => string.Join("\n", _counts.OrderBy(k => k.Key.Side).Select(k => $"{k.Key.Side}: {k.Value.Count} x {k.Key.Type.Name} ({k.Value.Example})"));
    }
}
