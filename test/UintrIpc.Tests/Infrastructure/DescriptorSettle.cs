using System.Runtime;

namespace UintrIpc.Tests.Infrastructure;

/// <summary>
/// A descriptor leak check asked again while it reports something: one snapshot of a process's
/// descriptors may come before a finished session's last close, while a per-wait descriptor is
/// being replaced, or (in the test host) while another test's pipe or socket is still open; a
/// real leak stays. The generated request tests (a server's descriptors) and the generated
/// bootstrap tests (the test host's) share it.
/// </summary>
/// <remarks>
/// A descriptor whose owner was dropped without Dispose is a leak even though the owner's
/// finalizer closes it after the next GC. Asked again for 10 s, such a leak would pass as soon as
/// a GC ran during the polling (other tests allocate; so does the polling). <see cref="Added"/>
/// (the test host's own descriptors) therefore tells the two apart by the GC: a finalizer can only
/// close what a GC found dead, so a report that clears while no GC ran was closed by code (a
/// close in flight on another thread); one that clears only after a GC ran is reported as a
/// possible finalizer close, with what it held. To keep a GC from coinciding with a real close in
/// flight, the polling runs in a no-GC region (<see cref="GC.TryStartNoGCRegion(long, bool)"/>, no
/// full blocking GC to start it), which a GC.Collect elsewhere or an allocation burst beyond its
/// budget may end; then a report that still clears after it is failed, not guessed at.
/// Chosen over running pending finalizers first (GC.Collect, WaitForPendingFinalizers): that
/// closes the leak before the check looks, and what it closed cannot be told from a close in
/// flight. What it cannot see: a descriptor a finalizer closed before the check began (a GC during
/// the case, its finalizer run by then): no descriptor check can; nor a finalizer a GC queued
/// before the check that runs during it (the finalizer thread's lag after that GC).
/// <see cref="AddedInOtherProcess"/> (a child server's descriptors) cannot know the child's GCs:
/// there a leak its finalizer closes within <see cref="Bound"/> still passes; what holds is that
/// a descriptor left open for the whole bound is reported, and the child's own paths dispose
/// (the host's tests of the same code check those strictly).
/// </remarks>
internal static class DescriptorSettle
{
    /// <summary>How long a report may take to clear: far above any close in flight, even at load 20.</summary>
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    /// <summary>The no-GC region's allocation budget: the polling and other tests' allocations for a settle of a few polls.</summary>
    private const long NoGcBudget = 64L << 20;

    private static readonly Lock s_region = new();

    /// <summary>
    /// <paramref name="added"/> (a report of this process's descriptors), asked again every 20 ms
    /// for up to <see cref="Bound"/> while it is not empty; returns its last answer, empty when it
    /// settled with no GC run meanwhile, or the first answer named as closed only after a GC
    /// (a finalizer's close: a missing Dispose).
    /// </summary>
    public static string Added(Func<string> added)
    {
        int collections = GC.CollectionCount(0); // counts every GC, of any generation
        string first = added();
        if (first == "")
        {
            return "";
        }

        lock (s_region) // a process has one no-GC region: two settles at once share this one
        {
            bool region = false;
            try
            {
                region = GCSettings.LatencyMode != GCLatencyMode.NoGCRegion && GC.TryStartNoGCRegion(NoGcBudget, disallowFullBlockingGC: true);
            }
            catch (InvalidOperationException)
            {
                // Another thread is in a region already: the GC count still tells.
            }

            try
            {
                string report = Poll(added, first);
                int ran = GC.CollectionCount(0) - collections;
                return report != "" || ran == 0 ? report
                    : $"closed only after {ran} GC(s) ran during the check, by a finalizer or a close in flight: [{first}] (a finalizer's close is a missing Dispose; a close in flight coinciding with a GC, run again)";
            }
            finally
            {
                if (region && GCSettings.LatencyMode == GCLatencyMode.NoGCRegion)
                {
                    try
                    {
                        GC.EndNoGCRegion();
                    }
                    catch (InvalidOperationException)
                    {
                        // Ended already by a GC (counted above).
                    }
                }
            }
        }
    }

    /// <summary>
    /// <paramref name="added"/> (a report of another process's descriptors), asked again as
    /// <see cref="Added"/> does; that process's GCs are not known here (see the remarks).
    /// </summary>
    public static string AddedInOtherProcess(Func<string> added) => Poll(added, added());

    private static string Poll(Func<string> added, string report)
    {
        long deadline = Environment.TickCount64 + (long)Bound.TotalMilliseconds;
        while (report != "" && Environment.TickCount64 < deadline)
        {
            Thread.Sleep(20);
            report = added();
        }

        return report;
    }
}
