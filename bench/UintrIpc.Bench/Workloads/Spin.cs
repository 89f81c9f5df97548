using System.Runtime.CompilerServices;

namespace UintrIpc.Bench.Workloads;

/// <summary>
/// The spin-wait steps of the polling loops, as the C baseline's: one <c>pause</c> per poll
/// (<see cref="Step"/>, the latency loops), or the throughput loops' backoff (<see cref="Backoff"/>).
/// </summary>
internal static class Spin
{
    /// <summary>Polls between deadline checks (the C baseline checks every 1024 polls too).</summary>
    public const int CheckMask = 1023;

    /// <summary>
    /// The backoff's cap, as a shift: at most 32 pauses per empty poll, about 1 us on this host's
    /// vCPUs (31 ns per pause, 2026-12-07); short against the time a producer takes to fill even
    /// the smallest ring the sweep runs (1 Ki slots at >= 10 ns per message), so a waiting consumer
    /// comes back long before its producer could find the ring full; the C baseline's IDLE_CAP_SHIFT.
    /// </summary>
    public const int BackoffCapShift = 5;

    /// <summary>
    /// The backoff's polls between deadline checks: 32 polls at the cap are 1024 pauses, about the
    /// time between the checks of <see cref="Step"/>, so a wait still ends within about 32 us of its
    /// deadline and an oversubscribed one still yields as often; the C baseline's IDLE_CHECK_MASK.
    /// </summary>
    public const int BackoffCheckMask = 31;

    /// <summary>One pause (x86) / yield (arm64) hint; the JIT folds the checks away.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Pause() => UintrIpc.Signaling.SpinHint.Pause();

    /// <summary>
    /// One step of a bounded spin: a pause, and every 1024 polls a deadline check and, when
    /// more processes spin than there are CPUs, a yield so that the one we wait for can run.
    /// </summary>
    /// <remarks>
    /// The check is out of line: inlined, its clock read and yield (P/Invokes) made every loop
    /// that spins here set up a P/Invoke frame and keep fewer of its values in registers.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Step(ref int polls, in Deadline deadline, string waitingFor, bool yieldSometimes = false)
    {
        Pause();
        if ((++polls & CheckMask) == 0)
        {
            Check(deadline, waitingFor, yieldSometimes);
        }
    }

    /// <summary>
    /// One step of the throughput loops' wait (a consumer on an empty ring, a producer on a full
    /// one), an exponential backoff as a spinning user's idle strategy (.NET's SpinWait, Agrona's
    /// BackoffIdleStrategy): the <paramref name="polls"/>-th empty poll of one wait (from 0)
    /// pauses <see cref="PausesAt"/> times: 1, 2, 4 ... up to 32 from the sixth on; the caller sets
    /// <paramref name="polls"/> to 0 when a poll made progress. Every 32 polls a deadline check and,
    /// when more processes spin than there are CPUs, a yield.
    /// </summary>
    /// <remarks>
    /// One pause per poll kept a consumer right behind its producer (docs/design-notes.md, slot64):
    /// each poll of the slot line the producer writes next takes the line from it, in C as in .NET.
    /// The same schedule as the C baseline's idle_step (throughput.c), so the comparison stays fair.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Backoff(ref int polls, in Deadline deadline, string waitingFor, bool yieldSometimes = false)
    {
        for (int i = PausesAt(polls); i > 0; i--)
        {
            Pause();
        }

        if ((++polls & BackoffCheckMask) == 0)
        {
            Check(deadline, waitingFor, yieldSometimes);
        }
    }

    /// <summary>The pauses of <see cref="Backoff"/>'s <paramref name="poll"/>-th empty poll of one wait (from 0): 1 &lt;&lt; min(poll, 5).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int PausesAt(int poll) => 1 << (int)Math.Min((uint)poll, BackoffCapShift); // a negative poll (never: the deadline ends a wait first) pauses the cap

    /// <summary>One step of an idle wait (the echoer's hold): a deadline check and a 1 ms sleep, so the CPU is free for the C floor.</summary>
    public static void Idle(in Deadline deadline, string waitingFor)
    {
        deadline.ThrowIfPassed(waitingFor);
        Thread.Sleep(1);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Check(in Deadline deadline, string waitingFor, bool yieldSometimes)
    {
        deadline.ThrowIfPassed(waitingFor);
        if (yieldSometimes)
        {
            Thread.Yield();
        }
    }
}
