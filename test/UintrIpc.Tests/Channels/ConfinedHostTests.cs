using System.Diagnostics;
using UintrIpc.Bootstrap;
using UintrIpc.Tests.Bootstrap;
using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.Channels;

/// <summary>
/// A child in a container-like host (a mount or network namespace of its own, made with
/// unshare as an unprivileged user namespace): a small or read-only /dev/shm, a server in
/// another network namespace. The library must refuse with what to do, never crash the process.
/// The namespace's tmpfs vanishes with the child, so nothing is left in the real /dev/shm.
/// </summary>
[Collection(CrossProcessCollection.Name)]
public sealed class ConfinedHostTests(ITestOutputHelper output)
{
    private static readonly Lazy<string?> s_unshareProblem = new(ProbeUnshare);

    [Fact]
    public void A_named_channel_larger_than_a_small_dev_shm_is_refused_at_creation_instead_of_a_SIGBUS_later()
    {
        // 64 KiB of tmpfs, a 1 MiB ring: ftruncate accepts it, the pages past 64 KiB do not exist.
        using var peer = StartConfined(["-rm"], "mount -t tmpfs -o size=64k tmpfs /dev/shm", "named-channel-fill", "uintripc-test-small", (1 << 20).ToString(System.Globalization.CultureInfo.InvariantCulture));
        peer.AssertSuccess(); // exit 135 (SIGBUS) without the reservation
        string said = peer.StandardOutput;
        Assert.Contains("refused: errno 28:", said, StringComparison.Ordinal);
        Assert.Contains("fallocate /dev/shm/uintripc-test-small", said, StringComparison.Ordinal);
        Assert.Contains("--shm-size", said, StringComparison.Ordinal);
        Assert.Contains("IpcChannelOptions.Name null", said, StringComparison.Ordinal);
        Assert.Contains("name left: False", said, StringComparison.Ordinal);
    }

    [Fact]
    public void A_named_channel_fits_a_dev_shm_that_has_room()
    {
        using var peer = StartConfined(["-rm"], "mount -t tmpfs -o size=4m tmpfs /dev/shm", "named-channel-fill", "uintripc-test-room", (1 << 20).ToString(System.Globalization.CultureInfo.InvariantCulture));
        peer.AssertSuccess();
        Assert.Contains("filled ", peer.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public void A_named_channel_on_a_read_only_dev_shm_says_to_mount_a_tmpfs_or_use_a_memfd_channel()
    {
        using var peer = StartConfined(["-rm"], "mount -t tmpfs -o ro tmpfs /dev/shm", "named-channel-fill", "uintripc-test-ro", "65536");
        peer.AssertSuccess();
        string said = peer.StandardOutput;
        Assert.Contains("refused: errno 30:", said, StringComparison.Ordinal);
        Assert.Contains("/dev/shm is not writable", said, StringComparison.Ordinal);
        Assert.Contains("IpcChannelOptions.Name null", said, StringComparison.Ordinal);
    }

    [Fact]
    public void A_client_in_another_network_namespace_hears_that_abstract_names_do_not_cross_it()
    {
        string endpoint = SocketNames.NewAbstract("netns");
        using var server = BootstrapServer.Listen(endpoint);
        using var peer = StartConfined(["-rn"], "true", "bootstrap-connect-report", endpoint, "300");
        peer.AssertSuccess();
        string said = peer.StandardOutput;
        Assert.Contains("refused: errno 111:", said, StringComparison.Ordinal);
        Assert.Contains("network namespace", said, StringComparison.Ordinal);
        Assert.Contains("socket path", said, StringComparison.Ordinal);
    }

    /// <summary>Runs the peer command under `unshare flags sh -c 'setup && exec dotnet ...'`.</summary>
    private PeerProcess StartConfined(string[] unshareFlags, string setup, string command, params string[] args)
    {
        RequiredTools.SkipWhenMissing(s_unshareProblem.Value is not null, $"unshare cannot make a user namespace here: {s_unshareProblem.Value}");
        return PeerProcess.StartWrapped(output, ["unshare", .. unshareFlags, "sh", "-c", setup + " && exec \"$0\" \"$@\""], null, command, args);
    }

    private static string? ProbeUnshare()
    {
        try
        {
            using var probe = Process.Start(new ProcessStartInfo("unshare", ["-rmn", "sh", "-c", "mount -t tmpfs tmpfs /dev/shm"]) { RedirectStandardError = true });
            if (probe is null)
            {
                return "unshare did not start";
            }

            string error = probe.StandardError.ReadToEnd(); // ends when the probe exits: its only writer
            return probe.WaitForExit(TimeSpan.FromSeconds(30)) && probe.ExitCode == 0 ? null : $"exit {(probe.HasExited ? probe.ExitCode : -1)}: {error}";
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return e.Message;
        }
    }
}
