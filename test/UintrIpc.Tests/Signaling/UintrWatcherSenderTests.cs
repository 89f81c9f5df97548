using UintrIpc.Bootstrap;
using UintrIpc.Channels;
using UintrIpc.Interop;
using UintrIpc.Signaling;
using UintrIpc.Tests.Bootstrap;
using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.Signaling;

/// <summary>
/// The sender the PeerEndWatcher thread registers to a reader's own vector fd when a watched
/// writer exits (ConsumerCore.SelfWake, review22) must be unregistered from the kernel when the
/// channel closes, also where the kernel's sender table is per task (variants C and D: only the
/// registering task can unregister, uintr-abi.md §1.2) and the reader closes the channel on its
/// own thread. The lab's kernel is variant E, so the shim's test switch makes the senders per
/// task (sends and unregisters from another thread refused, as on C and D), and its count of
/// kernel registrations not unregistered must come back to where it started.
/// </summary>
[Collection(CrossProcessCollection.Name)]
public sealed class UintrWatcherSenderTests(ITestOutputHelper output) : IDisposable
{
    private const int Channels = 4;
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(60);
    private readonly SocketNames _sockets = new();

    public void Dispose()
    {
        Shim.UintrTestSendersPerTask(0);
        _sockets.Dispose();
    }

    [Fact]
    [Trait(RealUintr.TraitName, RealUintr.TraitValue)]
    public void Closing_watched_channels_unregisters_the_watcher_threads_senders_on_a_per_task_kernel()
    {
        RealUintr.SkipUnlessDoorbellAvailable(DoorbellKind.Uintr);
        Shim.UintrTestSendersPerTask(1);
        long start = Shim.UintrSenderKernelRegistrations();
        new TestThread(() =>
        {
            for (int i = 0; i < Channels; i++)
            {
                OpenAndCloseOneWhoseWriterExits(i);
            }
        }, "reader").Join(TimeSpan.FromSeconds(120 * Channels));

        // The watcher unregisters what it was handed at its next pass (at least once a second).
        long left = Shim.UintrSenderKernelRegistrations() - start;
        try
        {
            TestWait.Until(() => Shim.UintrSenderKernelRegistrations() == start, "the watcher thread to unregister its senders", TimeSpan.FromSeconds(30));
        }
        catch (TimeoutException)
        {
        }

        long end = Shim.UintrSenderKernelRegistrations() - start;
        output.WriteLine($"kernel sender registrations after {Channels} channels: +{left} at once, +{end} after the wait");
        Assert.Equal(0, end);
    }

    private void OpenAndCloseOneWhoseWriterExits(int i)
    {
        string endpoint = _sockets.NewPath($"watcher-sender-{i}");
        using var server = BootstrapServer.Listen(endpoint);
        using var duplex = IpcChannel.CreateDuplex<long, long>(new IpcChannelOptions
        {
            Capacity = 8, Doorbell = DoorbellKind.Uintr, MaxParkTime = Long, PeerTimeout = Long,
        });
        using var peer = PeerProcess.Start(output, "duplex-hold", endpoint);
        using (var connection = server.Accept(Long))
        {
            connection.SendChannel(duplex, Long);
        }

        peer.WaitForOutput("holding");
        long before = Shim.UintrSenderKernelRegistrations();
        peer.WriteLine("quit"); // the writer of the requests exits
        Assert.Equal(0, peer.WaitForExit(Long));

        // The watcher thread sees the exit and registers its sender to our vector fd (exactly one).
        TestWait.Until(() => Shim.UintrSenderKernelRegistrations() == before + 1, "the watcher thread's sender to the reader's vector", Long);
    }
}
