using UintrIpc.Channels;
using UintrIpc.Signaling;
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
        }, "consumer").Join(TimeSpan.FromSeconds(60));
        return (written, received, refused);
    }
}
