using UintrIpc.Interop;

namespace UintrIpc.Signaling;

/// <summary>
/// The signal doorbell receivers alive in this process, by kernel thread id and signal: our own
/// knowledge of which threads block which signal. A sender whose consumer is in this process
/// signals only a thread registered here, and does so under the lock that Unregister takes, so a
/// receiver that has unregistered can restore its mask without a late signal from this process.
/// </summary>
internal static class SignalTargets
{
    private static readonly Lock s_lock = new();
    private static readonly List<(int Tid, int Signal)> s_receivers = [];

    internal static void Register(int tid, int signal)
    {
        lock (s_lock)
        {
            s_receivers.Add((tid, signal));
        }
    }

    internal static void Unregister(int tid, int signal)
    {
        lock (s_lock)
        {
            s_receivers.Remove((tid, signal));
        }
    }

    /// <summary>
    /// Sends <paramref name="signal"/> to thread <paramref name="tid"/> of this process if a
    /// receiver of that signal lives on it. Returns 0 (sent), -1 (tgkill failed, errno set), or
    /// 1 (refused: no such receiver here).
    /// </summary>
    internal static int TrySignal(int tid, int signal)
    {
        lock (s_lock)
        {
            return s_receivers.Contains((tid, signal)) ? Sys.TgKill(Environment.ProcessId, tid, signal) : 1;
        }
    }
}
