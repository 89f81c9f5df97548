using UintrIpc.Bench.Processes;
using UintrIpc.Interop;
using UintrIpc.Memory;

namespace UintrIpc.Bench.Workloads;

/// <summary>Region conventions of the harness: the region kind, and the control part every test region carries.</summary>
internal static class BenchRegions
{
    /// <summary>Region kind of harness regions ("BNCH").</summary>
    public const uint Kind = 0x48434E42;

    /// <summary>
    /// The control part (USER, tag 0), 1 KiB: the spinning cache line at +0 (cache-line test),
    /// the throughput phase word at +128 (consumer-written), producers' ready count at +256,
    /// the throughput start word at +384 (harness-written: every producer is ready, consume).
    /// Fields written by different sides are 128 bytes apart.
    /// </summary>
    public static PartSpec ControlPart() => new(PartKind.User, 0, 1024);

    public const int LineOffset = 0;
    public const int PhaseOffset = 128;
    public const int ReadyOffset = 256;
    public const int StartOffset = 384;

    /// <summary>Creates a test region: an anonymous memfd (nothing in /dev/shm to clean up), shared with children by inheritance.</summary>
    public static SharedRegion Create(params ReadOnlySpan<PartSpec> parts) => SharedRegion.CreateAnonymous(Kind, parts);

    /// <summary>Child side: attaches to the region whose descriptor was inherited as <c>--region-fd</c>, and closes that descriptor.</summary>
    public static SharedRegion Open(ChildArgs args)
    {
        using var inherited = new SafeFdHandle(args.GetInt("region-fd"), ownsHandle: true);
        return SharedRegion.Attach(inherited);
    }

    public static unsafe byte* Control(SharedRegion region) => region.PartPointer(region.FindPart(PartKind.User, 0));

    /// <summary>
    /// Maps every page of the region's parts into this process now (a read of one byte per
    /// page), so that page faults of large rings do not land in the measured part; the C
    /// baseline does the same on both sides (region_prefault).
    /// </summary>
    public static unsafe void Prefault(SharedRegion region)
    {
        long sum = 0;
        foreach (var part in region.Parts)
        {
            byte* p = region.PartPointer(part);
            for (long offset = 0; offset < (long)part.Length; offset += 4096)
            {
                sum += Volatile.Read(ref p[offset]); // acquire is more than needed; it keeps the read
            }
        }

        GC.KeepAlive(sum);
    }
}
