namespace UintrIpc.Tests.Infrastructure;

/// <summary>
/// A descriptor leak check asked again while it reports something: one snapshot of a process's
/// descriptors may come before a finished session's last close, while a per-wait descriptor is
/// being replaced, or (in the test host) while another test's pipe or socket is still open; a
/// real leak stays. The generated request tests (a server's descriptors) and the generated
/// bootstrap tests (the test host's) share it.
/// </summary>
internal static class DescriptorSettle
{
    /// <summary>How long a report may take to clear: far above any close in flight, even at load 20.</summary>
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    /// <summary>
    /// <paramref name="added"/>, asked again every 20 ms for up to <see cref="Bound"/> while it is
    /// not empty; returns its last answer (empty when it settled).
    /// </summary>
    public static string Added(Func<string> added)
    {
        long deadline = Environment.TickCount64 + (long)Bound.TotalMilliseconds;
        string report;
        while ((report = added()) != "" && Environment.TickCount64 < deadline)
        {
            Thread.Sleep(20);
        }

        return report;
    }
}
