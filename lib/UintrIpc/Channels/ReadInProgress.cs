using UintrIpc.Rings;
using UintrIpc.Signaling;

namespace UintrIpc.Channels;

/// <summary>
/// A reader's handler loop (message <c>Read</c>, slot <c>Drain</c>) as its Dispose sees it: which
/// thread runs one, and what to say when Dispose comes from its handler or cannot wait for it.
/// <see cref="Thread"/> is polled: a store of another thread shows within the poll. A slot ring's
/// is one word (SlotRingEngine.Draining, a plain load: nothing to pair it with); a record ring's is
/// two (RecordRingEngine.ReadingThread: ReadEnd acquire, then the thread Read stored before it).
/// </summary>
internal sealed class ReadInProgress(Func<int> thread, string call)
{
    /// <summary>The managed thread id of the thread inside the loop, or 0.</summary>
    public Func<int> Thread { get; } = thread;

    /// <summary>A handler disposed its own reader: the loop would read on through memory this Dispose may retire.</summary>
    public void ThrowIfOnThisThread()
    {
        if (Thread() == ProducerThreadCache.CurrentThread)
        {
            throw new InvalidOperationException($"A handler of {call} disposed its reader: dispose it after {call} returns (nothing was released).");
        }
    }

    /// <summary>Polls every millisecond until no loop runs (true) or <paramref name="limit"/> passed (false).</summary>
    public bool WaitForReturn(TimeSpan limit)
    {
        var deadline = WaitDeadline.After(limit);
        while (Thread() != 0)
        {
            if (deadline.HasPassed)
            {
                return false;
            }

            System.Threading.Thread.Sleep(1);
        }

        return true;
    }

    /// <summary>The loop on another thread did not return in time: nothing was released.</summary>
    public void ThrowStillRunning(TimeSpan waited)
    {
        throw new InvalidOperationException(
            $"A {call} of this reader on another thread (managed thread {Thread()}) did not return within {waited.TotalSeconds:0.#} s: "
            + $"its handler still runs, or messages keep coming faster than it returns (give {call} a smaller limit). Nothing was released: "
            + $"dispose the reader again after that {call} returns.");
    }
}
