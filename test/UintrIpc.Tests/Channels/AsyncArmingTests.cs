using System.Diagnostics;
using UintrIpc.Channels;

namespace UintrIpc.Tests.Channels;

/// <summary>
/// ReadAsync cancelled over and over by another thread while a writer streams, with the window
/// between an async wait's publication and the reset of its completion source widened to 1 ms
/// (ConsumerCore.ArmingWindowForTests, for this test's reads only): every value arrives once, in
/// order, and the reader's waiter thread never throws. A soak of user39 lost its server process to
/// InvalidOperationException out of the waiter thread (RunWaiter): the waiter, awake from a cancelled
/// read's release, claimed the next read inside that window and completed the cancelled read's
/// source a second time (design-notes "A production service's week (user39)").
/// </summary>
public sealed class AsyncArmingTests
{
    private static readonly AsyncLocal<bool> s_widen = new();

    [Theory]
    [InlineData(DoorbellKind.Futex)]
    [InlineData(DoorbellKind.EventFd)]
    public async Task Reads_cancelled_by_another_thread_lose_nothing_and_end_no_thread(DoorbellKind doorbell)
    {
        const long Count = 5_000;
        ConsumerCore<SlotChannelProbe<long>>.ArmingWindowForTests = static () =>
        {
            if (s_widen.Value)
            {
                Thread.Sleep(1);
            }
        };
        using var channel = IpcChannel.CreateBounded<long>(new IpcChannelOptions { Capacity = 64, Doorbell = doorbell });
        var reader = channel.Reader;
        var writer = channel.Writer;
        CancellationTokenSource? current = null;
        long cancels = 0;
        using var done = new CancellationTokenSource();
        var writing = new Thread(() =>
        {
            for (long v = 0; v < Count && !done.IsCancellationRequested; v++)
            {
                while (!writer.TryWrite(v, TimeSpan.FromMilliseconds(100)) && !done.IsCancellationRequested)
                {
                }

                Thread.SpinWait(2000); // values arrive while reads are armed, cancelled and re-armed
            }
        }) { IsBackground = true, Name = "arming writer" };
        var cancelling = new Thread(() =>
        {
            var random = new Random(39);
            while (!done.IsCancellationRequested)
            {
                Thread.SpinWait(random.Next(0, 500));
                try
                {
                    Volatile.Read(ref current)?.Cancel();
                }
                catch (ObjectDisposedException)
                {
                }
            }
        }) { IsBackground = true, Name = "arming canceller" };
        writing.Start();
        cancelling.Start();

        long expected = 0;
        var lastProgress = Stopwatch.StartNew();
        s_widen.Value = true;
        try
        {
            while (expected < Count)
            {
                using var cts = new CancellationTokenSource();
                Volatile.Write(ref current, cts);
                try
                {
                    long value = await reader.ReadAsync(cts.Token).AsTask().WaitAsync(TimeSpan.FromSeconds(30));
                    Assert.Equal(expected, value);
                    expected++;
                    lastProgress.Restart();
                }
                catch (OperationCanceledException)
                {
                    cancels++;
                    Assert.True(lastProgress.Elapsed < TimeSpan.FromSeconds(30), $"no value for 30 s after {expected}");
                }
            }
        }
        finally
        {
            s_widen.Value = false;
            await done.CancelAsync();
            writing.Join(TimeSpan.FromSeconds(10));
            cancelling.Join(TimeSpan.FromSeconds(10));
        }

        Assert.Equal(Count, expected);
        Assert.True(cancels > 0, "the storm cancelled no read");
    }
}
