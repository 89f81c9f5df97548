using UintrIpc.Memory;
using UintrIpc.Rings;
using UintrIpc.Rpc;
using UintrIpc.Signaling;

namespace UintrIpc.Tests.Trust;

/// <summary>
/// A session region of the RPC kind whose part table is not the one uintripc_rpc.h section 1
/// names (a part missing, a ring of the other mode): what a hostile server may hand a client.
/// The client refuses it with a RegionFormatException (a UintrIpcException, as RpcClient.Connect
/// documents), not the KeyNotFoundException of the part lookup (found by GeneratedRpcServerTests,
/// seed 11 case 12: no client wait block).
/// </summary>
public sealed class HostileRpcRegionPartsTests
{
    public static TheoryData<int> Missing => [0, 1, 2, 3, 4, 5];

    [Theory]
    [MemberData(nameof(Missing))]
    public void A_region_without_one_of_its_parts_is_refused_as_malformed(int missing)
    {
        PartSpec[] parts = RpcRegion.Parts(4, 4096, DoorbellKind.Futex, 1, 1, Environment.ProcessId);
        using var region = SharedRegion.CreateAnonymous(RpcLayout.RegionKind, [.. parts.Where((_, i) => i != missing)]);
        var e = Assert.Throws<RegionFormatException>(() => RpcRegion.Attach(region));
        Assert.Contains(parts[missing].Kind.ToString(), e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_request_ring_of_the_single_producer_mode_is_refused_as_malformed()
    {
        PartSpec[] parts = RpcRegion.Parts(4, 4096, DoorbellKind.Futex, 1, 1, Environment.ProcessId);
        parts[1] = SlotRing<RpcWireRequest>.Part(4, multipleProducers: false, RpcLayout.RequestsTag);
        using var region = SharedRegion.CreateAnonymous(RpcLayout.RegionKind, parts);
        Assert.Throws<RegionFormatException>(() => RpcRegion.Attach(region));
    }
}
