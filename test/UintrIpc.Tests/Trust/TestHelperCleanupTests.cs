using UintrIpc.Memory;
using UintrIpc.Rpc;
using UintrIpc.Tests.Bootstrap;
using UintrIpc.Tests.Infrastructure;
using UintrIpc.TestPeer.Commands;

namespace UintrIpc.Tests.Trust;

/// <summary>
/// The hostile-input helpers clean up when they fail halfway: a RawRpcClient whose constructor
/// throws after the connect, and a GuardedAttach whose check throws after the attach, leave no
/// descriptor and no mapping of the region behind (a leak there would be charged to the next
/// case's leak check, or hide one).
/// </summary>
[Collection(CrossProcessCollection.Name)]
public sealed class TestHelperCleanupTests(ITestOutputHelper output)
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public void A_RawRpcClient_that_fails_halfway_closes_its_session_and_unmaps_the_region()
    {
        string endpoint = SocketNames.NewAbstract("rawfail");
        using var server = PeerProcess.Start(output, "rpc-server", endpoint);
        server.WaitForOutput("listening");
        using (var warmUp = new RawRpcClient(endpoint, 4096))
        {
            // Whatever the runtime and the library open lazily.
        }

        for (int step = 0; step <= 1; step++)
        {
            var before = TestFds.Snapshot();
            var maps = MemfdMaps();
            int failAt = step;
            var thrown = Assert.Throws<InvalidOperationException>(() => new RawRpcClient(endpoint, 4096, s => Fail(s == failAt, s)).Dispose());
            Assert.Equal($"failed at step {step}", thrown.Message);
            Assert.Equal("", TestFds.AddedWhenSettled(before));
            Assert.Equal("", DescriptorSettle.Added(() => NewMaps(maps)));
        }
    }

    [Fact]
    public void A_GuardedAttach_whose_check_throws_after_the_attach_unmaps_the_region()
    {
        using var creator = SharedRegion.CreateAnonymous(new PartSpec(PartKind.Arena, 0, 4096));
        var before = TestFds.Snapshot();
        var maps = MemfdMaps();
        var thrown = Assert.Throws<InvalidOperationException>(() => GuardedAttach.Attach(creator.Size, () => SharedRegion.Attach(creator.FileHandle), Fail));
        Assert.Equal("the check failed", thrown.Message);
        Assert.Equal("", TestFds.AddedWhenSettled(before));
        Assert.Equal("", DescriptorSettle.Added(() => NewMaps(maps)));

        static SharedRegion Fail(SharedRegion attached) => throw new InvalidOperationException("the check failed");
    }

    private static void Fail(bool now, int step)
    {
        if (now)
        {
            throw new InvalidOperationException($"failed at step {step}");
        }
    }

    /// <summary>Mappings of the library's memfds in this process (address range and inode: one per region).</summary>
    private static HashSet<string> MemfdMaps() => [.. File.ReadLines("/proc/self/maps").Where(l => l.Contains("/memfd:uintripc", StringComparison.Ordinal))];

    /// <summary>Mappings not in <paramref name="before"/>: what a failed helper left (other collections' regions come and go meanwhile, so asked again until settled).</summary>
    private static string NewMaps(HashSet<string> before) => string.Join(", ", MemfdMaps().Where(m => !before.Contains(m)));
}
