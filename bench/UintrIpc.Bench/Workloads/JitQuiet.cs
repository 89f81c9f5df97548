using System.Diagnostics;
using System.Runtime;

namespace UintrIpc.Bench.Workloads;

/// <summary>
/// Tells when this process's JIT has gone quiet: no method compiled (tier 0, OSR, tier 1, or a
/// rejit of precompiled ReadyToRun code) for <see cref="QuietTime"/>. A fixed warm-up time is not
/// enough: promotions wait until 100 ms after the last tier-0 compile anywhere in the process,
/// so on a busy machine, CoreLib's precompiled Memmove (legacy SSE encoding, over 100 ns a call
/// from AVX code here) was still the copy of every record message after 500 ms, while the C
/// baseline it is compared with runs compiled code from its first message. Warm-ups therefore
/// last until the JIT is quiet, up to <see cref="Cap"/>.
/// </summary>
internal struct JitQuiet
{
    /// <summary>How long no compilation must happen.</summary>
    public static readonly TimeSpan QuietTime = TimeSpan.FromMilliseconds(300);

    /// <summary>The longest a warm-up waits for quiet, from its start.</summary>
    public static readonly TimeSpan Cap = TimeSpan.FromSeconds(10);

    private readonly long _quietTicks;
    private readonly long _capEnd;
    private long _count;
    private long _since;

    public JitQuiet(long start)
    {
        _quietTicks = (long)(QuietTime.TotalSeconds * Stopwatch.Frequency);
        _capEnd = start + (long)(Cap.TotalSeconds * Stopwatch.Frequency);
        _count = JitInfo.GetCompiledMethodCount();
        _since = start;
    }

    /// <summary>
    /// Yields the CPU during a warm-up: every thread of a pinned process shares one CPU, so a
    /// spinning loop would otherwise hold off the JIT's background worker and the timer that
    /// starts promotions (for a whole time slice, or indefinitely under a real-time policy),
    /// and the JIT would look quiet while promotions are still due.
    /// </summary>
    public static void LetBackgroundThreadsRun() => Thread.Yield();

    /// <summary>Whether the cap passed before the JIT went quiet.</summary>
    public readonly bool CapReached(long now) => now >= _capEnd;

    /// <summary>Samples the compile count; true once it has not changed for <see cref="QuietTime"/> (or the cap passed).</summary>
    public bool IsQuiet(long now)
    {
        long count = JitInfo.GetCompiledMethodCount();
        if (count != _count)
        {
            _count = count;
            _since = now;
        }

        return now - _since >= _quietTicks || now >= _capEnd;
    }
}
