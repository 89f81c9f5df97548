using System.Diagnostics;
using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;
using UintrIpc.Memory;
using UintrIpc.Signaling;

namespace UintrIpc.Tests.Signaling;

/// <summary>A fake "ring": a published count written by producers and a consumed count owned by the consumer.</summary>
internal sealed class MessageCounter
{
    private long _published;
    private long _consumed;

    public long Published => Volatile.Read(ref _published);

    /// <summary>Written by the consumer only (release), readable by anyone (acquire).</summary>
    public long Consumed => Volatile.Read(ref _consumed);

    /// <summary>Publishes one message (full fence, like an MPSC claim).</summary>
    public void Publish() => Interlocked.Increment(ref _published);

    /// <summary>Consumes everything published; returns how many.</summary>
    public long ConsumeAll()
    {
        long available = Published - _consumed;
        Volatile.Write(ref _consumed, _consumed + available);
        return available;
    }
}

/// <summary>Probe of a <see cref="MessageCounter"/>: work means published > consumed (acquire read).</summary>
internal readonly struct CounterProbe(MessageCounter counter) : IWaitProbe
{
    public bool HasWork => counter.Published > counter.Consumed;
}

/// <summary>A probe with a fixed answer, counting how often it was asked.</summary>
internal sealed class FixedProbe(bool hasWork) : IWaitProbe
{
    public int Calls;

    public bool HasWork
    {
        get
        {
            Calls++;
            return hasWork;
        }
    }
}

/// <summary>Test double: counts rings, wakes nobody.</summary>
internal sealed class CountingDoorbellSender : DoorbellSender
{
    private int _rings;

    public int Rings => Volatile.Read(ref _rings);

    public override DoorbellKind Kind => DoorbellKind.Futex;

    public override void Ring() => Interlocked.Increment(ref _rings);
}

/// <summary>Test double: counts waits and returns a fixed answer at once.</summary>
internal sealed class CountingDoorbellReceiver(bool result = false, DoorbellKind kind = DoorbellKind.Futex) : DoorbellReceiver
{
    public int Waits;
    public uint LastToken;
    public int Prepares;

    /// <summary>Runs inside Wait (e.g. to look at the wait block while "blocked").</summary>
    public Action? DuringWait { get; set; }

    public override DoorbellKind Kind => kind;

    public override uint PrepareToWait()
    {
        Prepares++;
        return 42;
    }

    public override bool Wait(uint token, TimeSpan timeout)
    {
        Waits++;
        LastToken = token;
        DuringWait?.Invoke();
        return result;
    }
}

/// <summary>A region with one wait block, disposed with the fixture.</summary>
internal sealed unsafe class WaitBlockRegion : IDisposable
{
    public WaitBlockRegion(bool singleProducer = false)
    {
        Region = SharedRegion.CreateAnonymous(WaitBlock.Part());
        Block = new WaitBlock(Region, singleProducer: singleProducer);
    }

    public SharedRegion Region { get; }

    public WaitBlock Block { get; }

    /// <summary>The raw consumer_state word (to play a corrupt or hostile peer).</summary>
    public uint* StateWord => (uint*)(Region.PartPointer(Region.FindPart(PartKind.WaitBlock)) + WaitBlockLayout.ConsumerStateOffset);

    public void Dispose() => Region.Dispose();
}

/// <summary>Bounded waits and thread inspection for the signaling tests.</summary>
internal static partial class TestWait
{
    public static readonly TimeSpan Long = TimeSpan.FromSeconds(20);

    /// <summary>Spins (yielding) until <paramref name="condition"/> holds; fails after <paramref name="timeout"/>.</summary>
    public static void Until(Func<bool> condition, string what, TimeSpan? timeout = null)
    {
        var limit = timeout ?? Long;
        var sw = Stopwatch.StartNew();
        while (!condition())
        {
            if (sw.Elapsed > limit)
            {
                throw new TimeoutException($"timed out after {limit.TotalSeconds} s waiting for {what}");
            }

            Thread.Sleep(1);
        }
    }

    /// <summary>Like <see cref="Until"/> but busy-polling (yielding), to react within microseconds.</summary>
    public static void SpinUntil(Func<bool> condition, string what, TimeSpan? timeout = null)
    {
        var limit = timeout ?? Long;
        long start = Stopwatch.GetTimestamp();
        while (!condition())
        {
            if (Stopwatch.GetElapsedTime(start) > limit)
            {
                throw new TimeoutException($"timed out after {limit.TotalSeconds} s waiting for {what}");
            }

            Thread.Yield();
        }
    }

    /// <summary>
    /// Reads an empty channel with <paramref name="timeout"/> until one wait has parked and timed
    /// out (the wait block's counters). One try is not enough: a read checks its deadline before
    /// it parks, so a thread descheduled for the whole timeout returns without parking, counting
    /// no sleep and publishing no consumer (CliInspectTests failed so once in four at load 19).
    /// </summary>
    public static void UntilOneParkTimesOut<T>(UintrIpc.Channels.IpcChannelReader<T> reader, TimeSpan timeout)
        where T : unmanaged
    {
        for (int tries = 1; reader.Counters.Timeouts == 0; tries++)
        {
            Xunit.Assert.True(tries <= 100, $"no read of the 100 parked and timed out: {reader.Counters}");
            Xunit.Assert.False(reader.TryRead(out _, timeout));
        }
    }

    /// <summary>
    /// Waits until kernel thread <paramref name="tid"/> of this process is asleep in the
    /// kernel (state S in /proc/self/task/tid/stat), i.e. really blocked in its wait.
    /// </summary>
    public static void UntilBlockedInKernel(int tid, TimeSpan? timeout = null)
        => Until(() => ThreadState(tid) == 'S', $"thread {tid} to block in the kernel", timeout);

    public static char ThreadState(int tid)
    {
        string stat = File.ReadAllText($"/proc/self/task/{tid}/stat");
        // "pid (comm) S ...": comm may contain spaces and parentheses, the state follows the last ')'.
        return stat[stat.LastIndexOf(')') + 2];
    }

    /// <summary>Whether <paramref name="signal"/> is blocked on kernel thread <paramref name="tid"/> (SigBlk in /proc).</summary>
    public static bool IsSignalBlocked(int tid, int signal)
    {
        foreach (string line in File.ReadLines($"/proc/self/task/{tid}/status"))
        {
            if (line.StartsWith("SigBlk:", StringComparison.Ordinal))
            {
                ulong mask = Convert.ToUInt64(line["SigBlk:".Length..].Trim(), 16);
                return (mask & (1UL << (signal - 1))) != 0;
            }
        }

        throw new InvalidOperationException("no SigBlk line");
    }

    /// <summary>CPU time consumed by the calling thread (CLOCK_THREAD_CPUTIME_ID).</summary>
    public static unsafe TimeSpan ThreadCpuTime()
    {
        Timespec ts;
        if (ClockGetTime(3 /* CLOCK_THREAD_CPUTIME_ID */, &ts) != 0)
        {
            throw new InvalidOperationException("clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
        }

        return TimeSpan.FromTicks((ts.Seconds * TimeSpan.TicksPerSecond) + (ts.Nanoseconds / 100));
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc.so.6", EntryPoint = "clock_gettime")]
    private static unsafe partial int ClockGetTime(int clock, Timespec* ts);
}

/// <summary>A background thread whose exception is rethrown by <see cref="Join"/>; joins are bounded.</summary>
internal sealed class TestThread
{
    private readonly Thread _thread;
    private Exception? _error;

    public TestThread(Action body, string name)
    {
        _thread = new Thread(() =>
        {
            try
            {
                body();
            }
            catch (Exception e)
            {
                _error = e;
            }
        })
        { IsBackground = true, Name = name };
        _thread.Start();
    }

    public void Join(TimeSpan? timeout = null)
    {
        var limit = timeout ?? TestWait.Long;
        if (!_thread.Join(limit))
        {
            throw new TimeoutException($"thread '{_thread.Name}' did not finish within {limit.TotalSeconds} s");
        }

        if (_error is not null)
        {
            ExceptionDispatchInfo.Throw(_error);
        }
    }
}
