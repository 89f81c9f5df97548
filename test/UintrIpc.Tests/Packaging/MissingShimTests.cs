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
        // The test peer's managed files (with Tmds.LibC under runtimes/), without the shim: its own
        // folder is the test output folder.
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
        string name = _names.New("noshim");
        using var peer = PeerProcess.StartProgram(output, Path.Combine(_copy.FullName, "UintrIpc.TestPeer.dll"), [], null, "default-doorbell", name);
        Assert.Equal(0, peer.WaitForExit());
        string stdout = peer.StandardOutput;

        Assert.Contains("default Futex", stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("created", stdout, StringComparison.Ordinal);
        foreach (string kind in new[] { "anonymous", "named" })
        {
            Assert.Contains($"refused {kind} PlatformNotSupportedException: The Futex doorbell cannot work on this machine: the native shim could not be loaded", stdout, StringComparison.Ordinal);
        }

        Assert.Contains("must be deployed with the application", stdout, StringComparison.Ordinal);
        Assert.Contains("runtimes/linux-x64/native/", stdout, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine("/dev/shm", name)), "a refused named channel left its file behind");
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _names.Dispose();
        _copy.Delete(recursive: true);
    }
}
