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
/// (the test host's own descriptors) therefore watches the GC count between two looks: a
/// finalizer only closes what a GC found dead, so an entry that goes away between two looks with
/// no GC between them was closed by code (a close in flight on another thread); one that goes
/// away across a GC is reported as a possible finalizer's close (the finalizers that GC queued are
/// run, GC.WaitForPendingFinalizers, before the look that judges, so that none of them lands in a
/// later window that looks clean). A close in flight that happens to share its 20 ms window with
/// a GC is reported too (the message says to run again); a run that never sees a GC is exact.
/// Not chosen: a no-GC region (TryStartNoGCRegion collects to start one, even with
/// disallowFullBlockingGC, so its own GC queues the leak's finalizer); GC.Collect and
/// WaitForPendingFinalizers before the first look (that closes the leak before the check sees it).
/// What no descriptor check can see: a descriptor a finalizer closed before the check began (a GC
/// during the case): pending finalizers are run before the first look, so none of those is
/// mistaken for a close in flight either.
/// <see cref="AddedInOtherProcess"/> (a child server's descriptors) cannot know the child's GCs:
/// there a leak its finalizer closes within <see cref="Bound"/> still passes; what holds is that
/// a descriptor left open for the whole bound is reported, and the same library paths disposed
/// in the test host are checked strictly by the host's tests.
/// Reports are lists of entries separated by ", ".
/// </remarks>
internal static class DescriptorSettle
{
    /// <summary>How long a report may take to clear: far above any close in flight, even at load 20.</summary>
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    /// <summary>
    /// <paramref name="added"/> (a report of this process's descriptors), asked again every 20 ms
    /// for up to <see cref="Bound"/> while it is not empty; returns its last answer, empty when it
    /// settled, or the entries that went away only across a GC (see the remarks).
    /// </summary>
    public static string Added(Func<string> added)
    {
        GC.WaitForPendingFinalizers(); // what earlier GCs found dead is closed before the first look
        int seen = GC.CollectionCount(0); // counts every GC, of any generation
        var across = new List<string>();
        string Look(string previous)
        {
            string next = added();
            if (GC.CollectionCount(0) != seen)
            {
                // A GC since the previous look: its finalizers run now, and whatever the next look no longer sees went away across it.
                GC.WaitForPendingFinalizers();
                seen = GC.CollectionCount(0);
                next = added();
                across.AddRange(Entries(previous).Except(Entries(next)));
            }

            return next;
        }

        string report = Look("");
        long deadline = Environment.TickCount64 + (long)Bound.TotalMilliseconds;
        while (report != "" && Environment.TickCount64 < deadline)
        {
            Thread.Sleep(20);
            report = Look(report);
        }

        return report != "" || across.Count == 0 ? report
            : $"went away only across a GC, closed by a finalizer (a missing Dispose) or a close in flight in the same 20 ms (run again): [{string.Join(", ", across)}]";
    }

    /// <summary>
    /// <paramref name="added"/> (a report of another process's descriptors), asked again every
    /// 20 ms for up to <see cref="Bound"/> while it is not empty; that process's GCs are not known
    /// here (see the remarks).
    /// </summary>
    public static string AddedInOtherProcess(Func<string> added)
    {
        long deadline = Environment.TickCount64 + (long)Bound.TotalMilliseconds;
        string report;
        while ((report = added()) != "" && Environment.TickCount64 < deadline)
        {
            Thread.Sleep(20);
        }

        return report;
    }

    private static string[] Entries(string report) => report == "" ? [] : report.Split(", ");
}
