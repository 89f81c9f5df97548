using System.Runtime.CompilerServices;

namespace UintrIpc.Channels;

/// <summary>
/// The message claims open on the current thread, by id, so that every copy of a
/// <see cref="MessageClaim"/> knows whether the claim was completed through another copy:
/// <c>using (claim)</c> disposes a copy taken when the statement began, while the caller commits
/// the original. Claims are completed on the thread that made them, and a thread rarely holds
/// more than one open, so this is a short array per thread (no allocation once warm).
/// </summary>
internal static class OpenClaims
{
    [ThreadStatic]
    private static long[]? t_open;

    [ThreadStatic]
    private static int t_count;

    [ThreadStatic]
    private static long t_lastId;

    /// <summary>Registers a new open claim of this thread and returns its id (never 0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static long Open()
    {
        long id = ++t_lastId;
        long[] open = t_open ??= new long[4];
        if (t_count == open.Length)
        {
            Array.Resize(ref t_open, open.Length * 2);
            open = t_open;
        }

        open[t_count++] = id;
        return id;
    }

    /// <summary>Removes <paramref name="id"/>; false if it was not open on this thread (completed already, or another thread).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool Close(long id)
    {
        long[]? open = t_open;
        for (int i = t_count - 1; i >= 0; i--)
        {
            if (open![i] == id)
            {
                open[i] = open[--t_count];
                return true;
            }
        }

        return false;
    }

    /// <summary>Whether <paramref name="id"/> is open on this thread.</summary>
    internal static bool IsOpen(long id)
    {
        long[]? open = t_open;
        for (int i = 0; i < t_count; i++)
        {
            if (open![i] == id)
            {
                return true;
            }
        }

        return false;
    }
}
