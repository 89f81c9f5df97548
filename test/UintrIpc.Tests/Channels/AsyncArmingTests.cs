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
    // The one hook of this instantiation, for this class's tests only (a test class runs one test at a time):
    // what the reading thread does in the window, or nothing on other tests' threads.
    private static readonly AsyncLocal<Action?> s_window = new();

    static AsyncArmingTests() => ConsumerCore<SlotChannelProbe<long>>.ArmingWindowForTests = static () => s_window.Value?.Invoke();

    [Theory]
    [InlineData(DoorbellKind.Futex)]
    [InlineData(DoorbellKind.EventFd)]
    public async Task Reads_cancelled_by_another_thread_lose_nothing_and_end_no_thread(DoorbellKind doorbell)
    {
        const long Count = 5_000;
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
        s_window.Value = static () => Thread.Sleep(1);
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
            s_window.Value = null;
            await done.CancelAsync();
            writing.Join(TimeSpan.FromSeconds(10));
            cancelling.Join(TimeSpan.FromSeconds(10));
        }

        Assert.Equal(Count, expected);
        Assert.True(cancels > 0, "the storm cancelled no read");
    }

    [Fact]
    public async Task A_dispose_while_the_first_read_is_being_armed_ends_that_read()
    {
        using var channel = IpcChannel.CreateBounded<long>(new IpcChannelOptions { Capacity = 64, Doorbell = DoorbellKind.Futex });
        var reader = channel.Reader;
        // Another thread disposes the reader inside the window: its claim finds no armed read to end,
        // and no waiter thread has started yet. The read must end with the dispose, not wait for a
        // waiter that sees the dispose and leaves without completing it.
        s_window.Value = () => Assert.True(Task.Run(reader.Dispose).Wait(TimeSpan.FromSeconds(30)), "Dispose did not return");
        ValueTask<long> read;
        try
        {
            read = reader.ReadAsync(CancellationToken.None);
        }
        finally
        {
            s_window.Value = null;
        }

        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await read.AsTask().WaitAsync(TimeSpan.FromSeconds(30)));
    }
}
