using System.Collections.Concurrent;
using UintrIpc.Interop;

namespace UintrIpc.Signaling;

// On variants C and D the kernel's sender table (UITT) is per task, and uintr_unregister_sender
// only disconnects the calling task (uintr-abi.md §1.2). The PeerEndWatcher thread registers
// senders to readers' own vector fds (ConsumerCore.SelfWake, review22), but the reader disposes
// them on its own thread, where the shim refuses the unregistration (-EPERM, no system call).
// Abandoned there, the watcher task's entry would live until the vector file's last descriptor
// closes: a long-running server opening and closing watched channels would pile them up. So such
// an index is queued here, and the watcher thread unregisters it at its next pass (at least once a
// second, PeerEndWatcher.Run). The watcher thread, once started, runs for the life of the process,
// so a queued index is always taken; one that can never be (not made on the watcher thread) is
// abandoned at once, and its kernel connection ends with the vector file, as before.

/// <summary>Sender indices made on the PeerEndWatcher thread that its thread must unregister.</summary>
internal static class WatcherSenderReleases
{
    private static readonly ConcurrentQueue<int> s_pending = new();

    /// <summary>
    /// Releases <paramref name="index"/> from any thread. Unregistered at once where the shim
    /// allows it; a per-task index of the watcher thread is handed to that thread; any other
    /// per-task index is abandoned (its kernel connection ends with the vector file).
    /// </summary>
    /// <returns>True when the index was released or handed over.</returns>
    internal static bool Release(int index, bool madeOnWatcher)
    {
        int rc = Shim.UintrSenderUnregister(index);
        if (rc != -Tmds.Linux.LibC.EPERM)
        {
            return rc == 0;
        }

        if (madeOnWatcher)
        {
            s_pending.Enqueue(index); // the watcher thread is running: it made this index
            return true;
        }

        return Shim.UintrSenderAbandon(index) == 0;
    }

    /// <summary>On the PeerEndWatcher thread, each pass: unregisters the indices handed over.</summary>
    internal static void Drain()
    {
        while (s_pending.TryDequeue(out int index))
        {
            _ = Shim.UintrSenderUnregister(index); // the registering task: the kernel accepts it, or the entry is freed anyway
        }
    }
}
