using UintrIpc.Memory;

namespace UintrIpc.Tests.Rings;

/// <summary>
/// Regions for property tests, which create one per generated case and never say when a case
/// is done. They are left to the finalizers of their handles; every so often we collect, so
/// that thousands of cases do not run out of file descriptors. Only unreachable regions are
/// finalized, so nothing in use is unmapped.
/// </summary>
internal static class ThrowawayRegions
{
    private static int s_created;

    public static SharedRegion Create(PartSpec part)
    {
        if (Interlocked.Increment(ref s_created) % 128 == 0)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }

        return SharedRegion.CreateAnonymous(part);
    }
}
