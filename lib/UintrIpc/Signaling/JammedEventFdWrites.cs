using System.Diagnostics;

namespace UintrIpc.Signaling;

// An eventfd ring is two system calls, the O_NONBLOCK / POLLOUT check and write(2), and a
// consumer sharing the open file description can clear O_NONBLOCK and fill its counter between
// them: the write then waits for a read that never comes (review19, review22). eventfd has no write
// that cannot wait (no write_iter: pwritev2(RWF_NOWAIT) is refused with EOPNOTSUPP, checked on
// 6.18; AIO needs write_iter too) and no private file description (opening /proc/self/fd/N of an
// eventfd gives ENXIO). So rings in write(2) are listed here, and the process's PeerEndWatcher
// thread, at every pass (at least once a second), frees a write that has been waiting for
// JammedAfter behind a counter with no room: it reads the counter without waiting on the sender's
// own duplicate, which takes only the jamming consumer's count (an honest one never nears 2^64-2)
// and wakes the blocked write, whose 1 then goes in: the consumer still gets its wake-up. A
// consumer that refills first only makes it read again, a millisecond later.

/// <summary>The eventfd writes in progress, and the rescue of those a consumer jammed.</summary>
internal static class JammedEventFdWrites
{
    /// <summary>How long a write may wait before it counts as jammed (an honest one never waits).</summary>
    private static readonly long JammedAfter = Stopwatch.Frequency / 10;

    /// <summary>Reads per pass while a jammed write stays blocked (1 ms apart).</summary>
    private const int ReadsPerPass = 200;

    private static readonly Lock s_lock = new();
    private static readonly List<(EventFdDoorbellSender Sender, long Since)> s_writing = [];
    private static long s_freed;

    /// <summary>Counters read this way so far (tests).</summary>
    internal static long CountersRead => Interlocked.Read(ref s_freed);

    /// <summary>Before a write(2) of <paramref name="sender"/>: returns its start, for <see cref="Leave"/>.</summary>
    internal static long Enter(EventFdDoorbellSender sender)
    {
        PeerEndWatcher.EnsureRunning();
        long since = Stopwatch.GetTimestamp();
        lock (s_lock)
        {
            s_writing.Add((sender, since));
        }

        return since;
    }

    /// <summary>After the write of <see cref="Enter"/> returned (or threw).</summary>
    internal static void Leave(EventFdDoorbellSender sender, long since)
    {
        lock (s_lock)
        {
            s_writing.Remove((sender, since));
        }
    }

    /// <summary>On the PeerEndWatcher thread: frees the writes that wait behind a full counter.</summary>
    internal static void FreeJammed()
    {
        List<(EventFdDoorbellSender Sender, long Since)>? jammed = null;
        long now = Stopwatch.GetTimestamp();
        lock (s_lock)
        {
            foreach (var write in s_writing)
            {
                if (now - write.Since >= JammedAfter)
                {
                    (jammed ??= []).Add(write);
                }
            }
        }

        foreach (var write in jammed ?? [])
        {
            for (int i = 0; i < ReadsPerPass && IsWriting(write); i++)
            {
                if (write.Sender.ReadFullCounter())
                {
                    Interlocked.Increment(ref s_freed);
                }

                Thread.Sleep(1); // the woken write takes the room, or the consumer refilled first: look again
            }
        }
    }

    private static bool IsWriting((EventFdDoorbellSender Sender, long Since) write)
    {
        lock (s_lock)
        {
            return s_writing.Contains(write);
        }
    }
}
