using UintrIpc.Channels;
using UintrIpc.Signaling;

namespace UintrIpc.Tests.Channels;

/// <summary>
/// What the async waiter thread of a channel reader may do with the ring, shown with a probe that
/// records which thread calls it: only the watching forms (no side effect; a record ring's CanRead
/// finishes an interrupted release and republishes our head, the reading thread's duties, 2c, 2g),
/// and a skip of a dead producer's claim only while no one can end the operation (a skip moves the
/// consumer's positions: a read after a cancel must not run alongside it).
/// </summary>
public sealed class ConsumerWaiterProbeTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task The_waiter_thread_calls_only_the_watching_forms_of_the_probe()
    {
        using var channel = NewChannel();
        using var log = new ProbeLog();
        using (var core = new ConsumerCore<SpyProbe>(channel.Core, new SpyProbe(log), "spy"))
        {
            // A wait that is cancelled after the waiter looked a few times.
            using (var cancel = new CancellationTokenSource())
            {
                ValueTask<bool> wait = core.WaitToReadAsync(cancel.Token);
                Assert.False(wait.IsCompleted);
                Assert.True(SpinWait.SpinUntil(() => Volatile.Read(ref log.WaiterLooks) + Volatile.Read(ref log.ForeignCalls) >= 3, Bound));
                cancel.Cancel();
                await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await wait);
            }

            // A wait that ends with data: the waiter's last looks decide the result.
            ValueTask<bool> next = core.WaitToReadAsync(CancellationToken.None);
            Assert.False(next.IsCompleted);
            Volatile.Write(ref log.Data, true);
            Assert.True(await next.AsTask().WaitAsync(Bound));
        }

        Assert.True(log.ForeignCalls == 0, $"the waiter thread called the reading thread's forms {log.ForeignCalls} times ({log.ForeignCall})");
        Assert.True(log.WaiterLooks > 0);
    }

    [Fact]
    public async Task A_cancel_does_not_end_the_wait_while_the_waiter_skips_a_dead_claim()
    {
        using var channel = NewChannel();
        using var log = new ProbeLog { HoldSkip = true };
        using var core = new ConsumerCore<SpyProbe>(channel.Core, new SpyProbe(log), "spy");
        using var cancel = new CancellationTokenSource();
        ValueTask<bool> wait = core.WaitToReadAsync(cancel.Token);
        Task cancelling = Task.CompletedTask;
        try
        {
            Assert.True(log.InSkip.Wait(Bound)); // the waiter is inside its skip (zero spin and yield budgets: before its first park)
            cancelling = Task.Run(cancel.Cancel);
            Assert.True(SpinWait.SpinUntil(() => cancel.IsCancellationRequested, Bound));
            Thread.Sleep(50); // the cancel's callback runs now
            Assert.False(wait.IsCompleted, "the wait ended while the waiter thread was skipping a claim: the reader could read alongside the skip");
        }
        finally
        {
            log.HoldSkip = false;
            log.Gate.Set();
        }

        await cancelling.WaitAsync(Bound);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await wait.AsTask().WaitAsync(Bound));
    }

    [Fact]
    public async Task An_error_of_a_look_that_began_before_a_cancel_does_not_end_the_next_wait()
    {
        using var channel = NewChannel();
        using var log = new ProbeLog { HoldLook = true };
        using var core = new ConsumerCore<SpyProbe>(channel.Core, new SpyProbe(log), "spy");
        ValueTask<bool> next;
        try
        {
            using (var cancel = new CancellationTokenSource())
            {
                ValueTask<bool> first = core.WaitToReadAsync(cancel.Token);
                Assert.True(log.InLook.Wait(Bound)); // the waiter is inside a look, held
                cancel.Cancel();
                await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await first.AsTask().WaitAsync(Bound));
            }

            // The reading thread read meanwhile (a look from before could walk reused bytes) and waits again.
            next = core.WaitToReadAsync(CancellationToken.None);
        }
        finally
        {
            log.HoldLook = false;
            log.LookGate.Set(); // the held look now fails, as a walk from a stale head can
        }

        Assert.True(SpinWait.SpinUntil(() => Volatile.Read(ref log.LooksThrown) == 1, Bound));
        Volatile.Write(ref log.Data, true);
        Assert.True(await next.AsTask().WaitAsync(Bound)); // not the stale look's RingCorruptedException
    }

    [Fact]
    public async Task An_error_of_a_look_for_the_pending_wait_ends_that_wait()
    {
        using var channel = NewChannel();
        using var log = new ProbeLog { HoldLook = true };
        using var core = new ConsumerCore<SpyProbe>(channel.Core, new SpyProbe(log), "spy");
        ValueTask<bool> wait = core.WaitToReadAsync(CancellationToken.None);
        Assert.True(log.InLook.Wait(Bound));
        log.HoldLook = false;
        log.LookGate.Set(); // the look fails while its own wait is pending: a corrupt ring, reported
        await Assert.ThrowsAsync<RingCorruptedException>(async () => await wait.AsTask().WaitAsync(Bound));
    }

    private static IpcMessageChannel NewChannel() => IpcChannel.CreateMessages(new IpcChannelOptions
    {
        BufferSize = 4096,
        Doorbell = DoorbellKind.Futex,
        SpinBudget = TimeSpan.Zero, // the waiter skips and parks at once
        YieldBudget = TimeSpan.Zero,
        MaxParkTime = TimeSpan.FromMilliseconds(1), // and looks again often
    });

    private sealed class ProbeLog : IDisposable
    {
        public readonly int ReadingThread = Environment.CurrentManagedThreadId;
        public readonly ManualResetEventSlim InSkip = new();
        public readonly ManualResetEventSlim Gate = new();
        public volatile bool HoldSkip;
        public readonly ManualResetEventSlim InLook = new();
        public readonly ManualResetEventSlim LookGate = new();
        public volatile bool HoldLook;
        public int LooksThrown;
        public bool Data;
        public int WaiterLooks;
        public int ForeignCalls;
        public string? ForeignCall;

        public bool Reading(string call)
        {
            if (Environment.CurrentManagedThreadId != ReadingThread)
            {
                ForeignCall = call;
                Interlocked.Increment(ref ForeignCalls);
            }

            return Volatile.Read(ref Data);
        }

        public bool Watching()
        {
            Interlocked.Increment(ref WaiterLooks);
            if (HoldLook && Environment.CurrentManagedThreadId != ReadingThread)
            {
                InLook.Set();
                LookGate.Wait(Bound);
                Interlocked.Increment(ref LooksThrown);
                throw new RingCorruptedException("record", 0, "a look from a stale head (test)");
            }

            return Volatile.Read(ref Data);
        }

        public void Dispose()
        {
            InSkip.Dispose();
            Gate.Dispose();
            InLook.Dispose();
            LookGate.Dispose();
        }
    }

    private readonly struct SpyProbe(ProbeLog log) : IChannelProbe
    {
        public bool HasData => log.Reading(nameof(HasData));

        public bool HasWork => log.Reading(nameof(HasWork));

        public bool IsCompleted => false;

        public bool IsDrained => !Volatile.Read(ref log.Data);

        public bool WasWritten => false;

        // Unused members on a branch without them (then the waiter calls HasWork, a foreign call).
        public bool WatchHasData => log.Watching();

        public bool WatchHasWork => log.Watching();

        public bool TrySkipDeadClaim()
        {
            if (Environment.CurrentManagedThreadId != log.ReadingThread && log.HoldSkip)
            {
                log.InSkip.Set();
                log.Gate.Wait(Bound);
            }

            return false;
        }
    }
}
