using UintrIpc.Rings;
using UintrIpc.Signaling;

namespace UintrIpc.Bench.Workloads.Latency;

/// <summary>The wait probe of a consumer of an SPSC slot ring: its <see cref="SlotRing{T}.CanRead"/> (acquire poll of the next slot).</summary>
internal readonly struct RingProbe : IWaitProbe
{
    private readonly SlotRing<long> _ring;

    public RingProbe(SlotRing<long> ring) => _ring = ring;

    public bool HasWork => _ring.CanRead;
}
