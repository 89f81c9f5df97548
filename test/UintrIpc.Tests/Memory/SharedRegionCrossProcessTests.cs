using System.Globalization;
using Tmds.Linux;
using UintrIpc.Memory;
using UintrIpc.Tests.Infrastructure;
using UintrIpc.TestPeer.Commands;

namespace UintrIpc.Tests.Memory;

/// <summary>Regions shared with a real child process (UintrIpc.TestPeer, Commands/RegionCommands.cs).</summary>
[Collection(CrossProcessCollection.Name)]
public sealed unsafe class SharedRegionCrossProcessTests(ITestOutputHelper output) : IDisposable
{
    private readonly ShmNames _names = new();

    public void Dispose() => _names.Dispose();

    private static PartSpec[] Parts() => [new(PartKind.Arena, 0, 256), new(PartKind.User, 7, 10_000)];

    [Fact]
    public void A_child_opens_a_named_region_and_writes_what_the_parent_reads()
    {
        string name = _names.New("xproc");
        using var region = SharedRegion.CreateNamed(name, 0, Parts());
        var part = region.FindPart(PartKind.User, 7);
        Assert.True(SharedRegionTests.PartBytes(region, part).ToArray().All(b => b == 0));

        using (var peer = PeerProcess.Start(output, "region-fill-named", name, "7", "77"))
        {
            peer.AssertSuccess();
            Assert.Contains($"creator {Environment.ProcessId}, epoch {region.Epoch:x16}", peer.StandardOutput, StringComparison.Ordinal);
        }

        // waitpid ordered the child's stores before our loads.
        Assert.Equal(-1, RegionPattern.FirstMismatch(SharedRegionTests.PartBytes(region, part), 77));
        // The other part was not touched.
        Assert.True(SharedRegionTests.PartBytes(region, region.FindPart(PartKind.Arena)).ToArray().All(b => b == 0));
    }

    [Fact]
    public void A_child_attaches_a_memfd_region_passed_by_inheritance()
    {
        using var region = SharedRegion.CreateAnonymous(Parts());
        // Our descriptors are close-on-exec; a duplicate without the flag is what the child inherits.
        int inheritable = LibC.fcntl(region.FdHandle.Fd, LibC.F_DUPFD, 3);
        Assert.True(inheritable >= 3, $"fcntl(F_DUPFD) failed: errno {LibC.errno}");
        Assert.Equal(0, LibC.fcntl(inheritable, LibC.F_GETFD) & LibC.FD_CLOEXEC);

        PeerProcess peer;
        try
        {
            peer = PeerProcess.Start(output, "region-fill-fd", inheritable.ToString(CultureInfo.InvariantCulture), "7", "78");
        }
        finally
        {
            // The child has its copy now (fork happened in Start); ours would only leak.
            _ = LibC.close(inheritable);
        }

        using (peer)
        {
            peer.AssertSuccess();
            Assert.Contains($"epoch {region.Epoch:x16}", peer.StandardOutput, StringComparison.Ordinal);
        }

        Assert.Equal(-1, RegionPattern.FirstMismatch(SharedRegionTests.PartBytes(region, region.FindPart(PartKind.User, 7)), 78));
    }

    [Fact]
    public void A_child_given_a_wrong_descriptor_fails_cleanly()
    {
        // A number that is no descriptor: the child reports EBADF instead of crashing.
        using var peer = PeerProcess.Start(output, "region-fill-fd", "-1", "7", "1");
        Assert.Equal(1, peer.WaitForExit());
        Assert.Contains("errno 9", peer.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public void A_killed_creator_leaves_no_shm_file_behind_once_the_parent_cleans_up()
    {
        string name;
        string path;
        using (var names = new ShmNames())
        {
            name = names.New("killed");
            path = Path.Combine(SharedRegion.SharedMemoryDirectory, name);
            using var peer = PeerProcess.Start(output, "region-create-and-hang", name);
            peer.WaitForOutput("created");

            using (var opened = SharedRegion.OpenNamed(name, TimeSpan.FromSeconds(10)))
            {
                Assert.Equal(peer.Pid, opened.CreatorPid);
            }

            peer.Kill();
            Assert.NotEqual(0, peer.WaitForExit(TimeSpan.FromSeconds(10)));
            // A killed creator cannot unlink: the name outlives it ...
            Assert.True(File.Exists(path));
        }

        // ... until the parent's cleanup removes it.
        Assert.False(File.Exists(path));
        Assert.False(SharedRegion.Unlink(name));
    }
}
