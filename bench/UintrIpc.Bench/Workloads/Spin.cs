using System.Runtime.CompilerServices;

namespace UintrIpc.Bench.Workloads;

/// <summary>The spin-wait step of every polling loop: one <c>pause</c>, as the C baseline does.</summary>
internal static class Spin
{
    /// <summary>Polls between deadline checks (the C baseline checks every 1024 polls too).</summary>
    public const int CheckMask = 1023;

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
