using Tmds.Linux;
using UintrIpc.Memory;

namespace UintrIpc.TestPeer.Commands;

/// <summary>
/// Attaches to a region so that its mapping has an inaccessible (PROT_NONE) page right before
/// and right after it: a read or write just outside the region faults at once instead of
/// touching whatever happens to be mapped there. The library maps with mmap(NULL, size), and
/// the kernel gives the highest free gap that fits; we reserve size + 2 pages, free the middle,
/// and attach, so the region lands in that hole between the two guard pages. A smaller free gap
/// above the hole (a page some finalized mapping left between others) would take the region
/// first, so it is filled beforehand (<see cref="FillGapsAbove"/>). The placement is checked,
/// never assumed: if the region landed elsewhere (another thread mapped something in between),
/// we try again.
/// </summary>
internal static unsafe class GuardedAttach
{
    private static readonly nuint Page = (nuint)Environment.SystemPageSize;

    /// <summary>
    /// Calls <paramref name="attach"/> until the region it maps (<paramref name="regionOf"/>) sits
    /// between two guard pages. Returns the attached object and a handle that removes the guard
    /// pages (dispose it after the object).
    /// </summary>
    /// <exception cref="InvalidOperationException">The region never landed in the prepared hole.</exception>
    public static (T Attached, IDisposable Guard) Attach<T>(long size, Func<T> attach, Func<T, SharedRegion> regionOf)
        where T : IDisposable
    {
        // Attachments that landed in a smaller gap elsewhere stay mapped until we succeed, so that
        // the next attempt cannot pick the same gap; every hole prepared so far stays a candidate.
        var misplaced = new List<T>();
        var guards = new List<Guard>();
        try
        {
            for (int attempt = 0; attempt < 64; attempt++)
            {
                nuint length = (nuint)size;
                byte* reserve = (byte*)LibC.mmap(null, (size_t)(ulong)(length + (2 * Page)), LibC.PROT_NONE, LibC.MAP_PRIVATE | LibC.MAP_ANONYMOUS | LibC.MAP_NORESERVE, -1, 0);
                if (reserve == (byte*)-1)
                {
                    throw new InvalidOperationException($"mmap of the guard reservation failed: errno {LibC.errno}");
                }

                if (LibC.munmap(reserve + Page, (size_t)(ulong)length) != 0) // the hole the region should land in
                {
                    int errno = LibC.errno;
                    _ = LibC.munmap(reserve, (size_t)(ulong)(length + (2 * Page))); // all of it still ours: nothing can have landed in it
                    throw new InvalidOperationException($"munmap failed: errno {errno}");
                }

                guards.Add(new Guard(reserve, length));
                T attached;
                var fillers = new List<nint>();
                try
                {
                    FillGapsAbove(reserve + Page, length, fillers);
                    attached = attach();
                }
                finally
                {
                    foreach (nint filler in fillers)
                    {
                        _ = LibC.munmap((void*)filler, (size_t)(ulong)length);
                    }
                }

                // Disposed by the finally below unless returned: also when regionOf throws.
                misplaced.Add(attached);
                byte* at = regionOf(attached).BasePointer;
                Guard? mine = guards.Find(g => g.Hole == at);
                if (mine is not null)
                {
                    guards.Remove(mine);
                    misplaced.RemoveAt(misplaced.Count - 1);
                    return (attached, mine);
                }
            }

            throw new InvalidOperationException("the region never landed between its guard pages");
        }
        finally
        {
            foreach (var m in misplaced)
            {
                m.Dispose();
            }

            foreach (var g in guards)
            {
                g.Dispose();
            }
        }
    }

    /// <summary>
    /// Maps inaccessible fillers of <paramref name="length"/> bytes, each where mmap(NULL) puts
    /// one (the highest free gap that fits, as for the region), until one lands in
    /// <paramref name="hole"/>: that one is unmapped again, and every gap above the hole that
    /// the region could take instead is filled. Seen failing without it: a 4 KiB slot channel's
    /// region missed 64 holes in a row after 200-300 fuzz rounds (freed pages between other
    /// mappings). The caller unmaps the fillers (added to <paramref name="fillers"/> as they are
    /// mapped, so that a throw on the way leaves none it cannot find) after its attach.
    /// </summary>
    private static void FillGapsAbove(byte* hole, nuint length, List<nint> fillers)
    {
        for (int probe = 0; probe < 100_000; probe++)
        {
            byte* at = (byte*)LibC.mmap(null, (size_t)(ulong)length, LibC.PROT_NONE, LibC.MAP_PRIVATE | LibC.MAP_ANONYMOUS | LibC.MAP_NORESERVE, -1, 0);
            if (at == (byte*)-1)
            {
                break; // out of address space or map count: the attach and its check decide
            }

            if (at == hole || at < hole)
            {
                // In the hole: it is the highest gap left. Below it: another thread took the hole; the caller retries.
                _ = LibC.munmap(at, (size_t)(ulong)length);
                break;
            }

            fillers.Add((nint)at);
        }
    }

    private sealed class Guard(byte* reserve, nuint length) : IDisposable
    {
        private bool _disposed;

        public byte* Hole => reserve + Page;

        public void Dispose()
        {
            if (!_disposed)
            {
                _disposed = true;
                // Page-aligned ranges we mapped ourselves: munmap cannot fail on them.
                _ = LibC.munmap(reserve, (size_t)(ulong)Page);
                _ = LibC.munmap(reserve + Page + length, (size_t)(ulong)Page);
            }
        }
    }
}
