namespace UintrIpc.Metrics;

/// <summary>
/// Producer threads of this process that found an MPSC ring's producer table full of live
/// producers (uintripc.h 2f) and claim without an entry: from then on that ring's consumer no
/// longer skips a dead producer's unmarked claim by itself (only TryUnblock does). Counted where
/// the thread registers, once per thread and ring object, never on a claim.
/// </summary>
internal static class ProducerTableCounts
{
    private static long s_unregistered;

    internal static long Unregistered => Volatile.Read(ref s_unregistered);

    internal static void CountUnregistered() => Interlocked.Increment(ref s_unregistered);
}
