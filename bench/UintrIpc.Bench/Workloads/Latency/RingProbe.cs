using UintrIpc.Rings;
using UintrIpc.Signaling;

namespace UintrIpc.Bench.Workloads.Latency;

/// <summary>The wait probe of a consumer of an SPSC slot ring: its <see cref="SpscRing{T}.CanRead"/> (acquire poll of the next slot).</summary>
internal readonly struct RingProbe : IWaitProbe
{
    private readonly SpscRing<long> _ring;

    public RingProbe(SpscRing<long> ring) => _ring = ring;

    public bool HasWork => _ring.CanRead;
}
