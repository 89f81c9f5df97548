using UintrIpc.Channels;
using UintrIpc.Signaling;
using UintrIpc.Tests.Infrastructure;
using UintrIpc.Tests.Signaling;

namespace UintrIpc.Tests.Channels;

/// <summary>
/// Async reads that really wait (served by the waiter thread, completed from another thread)
/// allocate nothing per read once warm. Measured over all threads (GC.GetTotalAllocatedBytes),
/// so it runs in the non-parallel collection; the bound, under 1 byte per read, leaves room for
/// the test runner's own bookkeeping but not for one object per read (24 bytes or more). A
/// one-off allocation elsewhere in the process (the runner, the thread pool growing on a loaded
/// machine) can exceed it in one batch, so up to three batches run and the best one counts:
/// an allocation per read would show in every batch.
/// Release builds only: in Debug the C# compiler makes every async state machine a class,
/// allocated per call (run `dotnet test -c Release` to include it).
/// </summary>
[Collection(CrossProcessCollection.Name)]
public sealed class ChannelAllocationTests(ITestOutputHelper output)
{
    private const int Reads = 5000;
    private const int Batches = 3;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Waiting_async_reads_allocate_nothing_per_read(bool cancellableToken)
    {
        var debuggable = (System.Diagnostics.DebuggableAttribute?)Attribute.GetCustomAttribute(typeof(IpcChannelReader<>).Assembly, typeof(System.Diagnostics.DebuggableAttribute));
        Assert.SkipWhen(debuggable?.IsJITOptimizerDisabled == true, "UintrIpc is a Debug build: its async state machines are classes allocated per call; run the tests with -c Release");
        using var channel = IpcChannel.CreateBounded<long>(new IpcChannelOptions { Capacity = 64, Doorbell = DoorbellKind.Futex, Wait = new ChannelWaitOptions { SpinBudget = TimeSpan.Zero, YieldBudget = TimeSpan.Zero } });
        var consumer = channel.Reader;
        var producer = channel.Writer;
        using var cts = new CancellationTokenSource();
        CancellationToken token = cancellableToken ? cts.Token : CancellationToken.None;
        var waitBlock = new WaitBlock(channel.Region);
        using var stop = new CancellationTokenSource(TestWait.Long);

        // The producer writes the next value only once the reader's wait has parked, so every
        // read goes through the waiter thread and a completion from another thread.
        long wanted = 0;
        var writer = new TestThread(() =>
        {
            for (long i = 0; i < (1 + Batches) * Reads && !stop.IsCancellationRequested; i++)
            {
                while (Volatile.Read(ref wanted) <= i && !stop.IsCancellationRequested)
                {
                    Thread.Yield();
                }

                while (!waitBlock.IsConsumerSleeping && !stop.IsCancellationRequested)
                {
                    Thread.Yield();
                }

                producer.TryWrite(i);
            }
        }, "producer");

        long Run(int from)
        {
            long before = GC.GetTotalAllocatedBytes(precise: true);
            for (int i = from; i < from + Reads; i++)
            {
                Volatile.Write(ref wanted, i + 1);
                ValueTask<long> read = consumer.ReadAsync(token);
                long value = read.IsCompleted ? read.Result : read.AsTask().GetAwaiter().GetResult();
                if (value != i)
                {
                    throw new InvalidOperationException($"read {value}, expected {i}");
                }
            }

            return GC.GetTotalAllocatedBytes(precise: true) - before;
        }

        _ = Run(0); // warm-up (JIT, pools, the waiter thread)
        // Measure the await path without AsTask (which allocates): a blocking wait on the ValueTask's awaiter.
        var batches = new List<long>();
        for (int b = 1; b <= Batches && (batches.Count == 0 || batches.Min() >= Reads); b++)
        {
            batches.Add(RunAwaited(b * Reads));
        }

        stop.Cancel();
        writer.Join();
        output.WriteLine($"bytes per batch of {Reads} waiting reads: {string.Join(", ", batches)}; {consumer.Counters}");
        Assert.True(batches.Min() < Reads, $"every batch of {Reads} reads allocated at least {batches.Min()} bytes");

        long RunAwaited(int from)
        {
            using var done = new ManualResetEventSlim();
            Action onDone = done.Set; // one delegate for all reads
            long before = GC.GetTotalAllocatedBytes(precise: true);
            for (int i = from; i < from + Reads; i++)
            {
                Volatile.Write(ref wanted, i + 1);
#pragma warning disable CA2012 // consumed exactly once, through its awaiter
                // ConfigureAwait(false): xunit's synchronization context would allocate to post the continuation.
                var awaiter = consumer.ReadAsync(token).ConfigureAwait(false).GetAwaiter();
#pragma warning restore CA2012
                if (!awaiter.IsCompleted)
                {
                    done.Reset();
                    awaiter.UnsafeOnCompleted(onDone);
                    if (!done.Wait(TestWait.Long))
                    {
                        throw new TimeoutException($"read {i} did not complete");
                    }
                }

                if (awaiter.GetResult() != i)
                {
                    throw new InvalidOperationException($"read {i}: wrong value");
                }
            }

            return GC.GetTotalAllocatedBytes(precise: true) - before;
        }
    }
}
