using UintrIpc.Channels;
using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.Packaging;

/// <summary>
/// An application deployed without the native shim (a NativeAOT or single-file executable copied
/// alone, a container image that left libuintripc.so out): the default doorbell, futex, needs the
/// shim. It used to fall back to eventfd without a word, so that a named channel got a doorbell its
/// writers cannot open by name, and they were told to create a Reader first or use a bootstrap
/// connection (design-notes user43). Now creating a channel with the default says what to deploy.
/// </summary>
[Collection(CrossProcessCollection.Name)]
public sealed class MissingShimTests(ITestOutputHelper output) : IDisposable
{
    private readonly ShmNames _names = new();
    private readonly DirectoryInfo _copy = Directory.CreateTempSubdirectory("uintripc-noshim-");

    [Fact]
    public void Without_libuintripc_the_default_doorbell_refuses_with_what_to_deploy_instead_of_falling_back_to_eventfd()
    {
        string peerDll = CopyPeerWithoutShim();
        string name = _names.New("noshim");
        using var peer = PeerProcess.StartProgram(output, peerDll, [], null, "default-doorbell", name);
        Assert.Equal(0, peer.WaitForExit());
        string stdout = peer.StandardOutput;

        Assert.Contains("default Futex", stdout, StringComparison.Ordinal);
        string[] lines = stdout.Split('\n');
        foreach (string kind in new[] { "anonymous", "named", "explicit-futex" })
        {
            // An explicit futex too: what to deploy, and not "leave it null for the default" (futex again).
            string refused = Assert.Single(lines, line => line.StartsWith($"refused {kind} ", StringComparison.Ordinal));
            Assert.StartsWith($"refused {kind} PlatformNotSupportedException: The Futex doorbell cannot work on this machine: the native shim could not be loaded", refused, StringComparison.Ordinal);
        }

        int advice = stdout.Split("must be deployed with the application").Length - 1;
        Assert.True(advice == 3, $"the deploy advice in {advice} of the 3 refusals:\n{stdout}");
        Assert.Contains("runtimes/linux-x64/native/", stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("null for the default", stdout, StringComparison.Ordinal);
        // What the advice offers instead works without the shim: eventfd, chosen explicitly.
        Assert.Contains("created explicit-eventfd EventFd round-trip True", stdout, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine("/dev/shm", name)), "a refused named channel left its file behind");
    }

    /// <summary>
    /// The other processes of a named channel made with the default doorbell (futex) in a process
    /// that has the shim: one deployed without it used to open the channel and make its end, then
    /// fail with a bare DllNotFoundException at the first wake or wait (review31). Now making the
    /// end says what to deploy.
    /// </summary>
    [Theory]
    [InlineData("writer")]
    [InlineData("reader")]
    public void Without_libuintripc_the_end_of_a_futex_channel_opened_by_name_refuses_with_what_to_deploy(string end)
    {
        Assert.SkipWhen(IpcChannel.DefaultDoorbell != DoorbellKind.Futex, $"the default doorbell here is {IpcChannel.DefaultDoorbell}, not futex");
        string peerDll = CopyPeerWithoutShim();
        string name = _names.New("noshim-open");
        using var channel = IpcChannel.CreateBounded<long>(new IpcChannelOptions { Capacity = 8, Name = name });

        using var peer = PeerProcess.StartProgram(output, peerDll, [], null, "open-named-end", name, end);
        Assert.Equal(0, peer.WaitForExit());
        string stdout = peer.StandardOutput;

        Assert.Contains("opened", stdout, StringComparison.Ordinal);
        Assert.Contains("refused PlatformNotSupportedException: The Futex doorbell cannot work on this machine: the native shim could not be loaded", stdout, StringComparison.Ordinal);
        Assert.Contains("must be deployed with the application", stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("To run without it", stdout, StringComparison.Ordinal); // that advice is the creator's
        Assert.DoesNotContain("done", stdout, StringComparison.Ordinal);
    }

    /// <summary>Copies the test peer's managed files (with Tmds.LibC under runtimes/), without the shim, and returns the peer's path in the copy.</summary>
    private string CopyPeerWithoutShim()
    {
        // The test peer's own folder is the test output folder.
        string from = AppContext.BaseDirectory;
        foreach (string file in Directory.EnumerateFiles(from, "*.dll")
            .Concat(Directory.EnumerateFiles(from, "UintrIpc.TestPeer.*.json"))
            .Concat(Directory.EnumerateFiles(Path.Combine(from, "runtimes"), "*.dll", SearchOption.AllDirectories)))
        {
            string to = Path.Combine(_copy.FullName, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(to)!);
            File.Copy(file, to);
        }

        Assert.Empty(Directory.EnumerateFiles(_copy.FullName, "libuintripc*", SearchOption.AllDirectories));
        return Path.Combine(_copy.FullName, "UintrIpc.TestPeer.dll");
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _names.Dispose();
        _copy.Delete(recursive: true);
    }
}
