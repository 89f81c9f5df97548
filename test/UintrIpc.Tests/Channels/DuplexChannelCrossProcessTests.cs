using System.Globalization;
using Tmds.Linux;
using UintrIpc.Bootstrap;
using UintrIpc.Channels;
using UintrIpc.Tests.Bootstrap;
using UintrIpc.Tests.Infrastructure;
using UintrIpc.Tests.Signaling;

namespace UintrIpc.Tests.Channels;

/// <summary>
/// A duplex channel between real processes: this process creates it and answers, a child
/// (UintrIpc.TestPeer duplex-request) receives it over a bootstrap connection and sends requests one
/// at a time, checking every response. Pauses on both sides make each reader park, so both
/// directions' doorbells (handed over in the two bootstrap messages) must wake a sleeping reader.
/// </summary>
[Collection(CrossProcessCollection.Name)]
public sealed class DuplexChannelCrossProcessTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(20);
    private readonly SocketNames _sockets = new();

    public void Dispose() => _sockets.Dispose();

    [Theory]
    [InlineData(DoorbellKind.Futex)]
    [InlineData(DoorbellKind.EventFd)]
    [InlineData(DoorbellKind.Signal)]
    // Real user interrupts: run by the emulated-uintr job (trait Uintr=Real, Signaling/RealUintr.cs); each reader's
    // vector fd crosses in its bootstrap message, and each sleeping reader is woken by a SENDUIPI from the other process.
    [InlineData(DoorbellKind.Uintr, Traits = [RealUintr.TraitName, RealUintr.TraitValue])]
    public void A_requesting_process_gets_every_response(DoorbellKind doorbell)
    {
        RealUintr.SkipUnlessDoorbellAvailable(doorbell);
        const int Count = 3000, PauseEvery = 300;
        string endpoint = _sockets.NewPath("duplex");
        new TestThread(() =>
        {
            using var server = BootstrapServer.Listen(endpoint);
            using var duplex = IpcChannel.CreateDuplex<long, long>(new IpcChannelOptions { Capacity = 16, Doorbell = doorbell, MaxParkTime = Long });
            using var peer = PeerProcess.Start(output, "duplex-request", endpoint, Count.ToString(CultureInfo.InvariantCulture), PauseEvery.ToString(CultureInfo.InvariantCulture), "20");
            using (var connection = server.Accept(Long))
            {
                Assert.Equal(peer.Pid, connection.Peer.Pid);
                connection.SendChannel(duplex, Long);
                long expected = 0;
                var requests = duplex.Requests.Reader;
                while (requests.TryRead(out long request, Long))
                {
                    Assert.Equal(expected++, request);
                    if (expected % PauseEvery == 0)
                    {
                        Thread.Sleep(20); // the requester's reader parks
                    }

                    Assert.True(duplex.Responses.Writer.TryWrite((2 * request) + 1, Long));
                }

                Assert.Equal(Count, expected);
                Assert.True(requests.IsCompleted);
                Assert.Equal(0ul, requests.Counters.Timeouts); // every sleep was rung (a refused ring would cost a 20 s park)
                Assert.True(requests.Counters.Sleeps >= (Count / PauseEvery) - 1, $"{requests.Counters}");
            }

            peer.AssertSuccess();
            Assert.Contains($"requested {Count} over {doorbell}; sleeps ", peer.StandardOutput, StringComparison.Ordinal);
            var match = System.Text.RegularExpressions.Regex.Match(peer.StandardOutput, @"sleeps (\d+), timeouts (\d+)");
            Assert.True(match.Success, peer.StandardOutput);
            Assert.True(long.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) >= (Count / PauseEvery) - 1, peer.StandardOutput); // the requester's reader parked and was woken
            Assert.Equal("0", match.Groups[2].Value);
        }, "answering").Join(TimeSpan.FromSeconds(90));
    }

    [Theory]
    [InlineData(DoorbellKind.Signal, false)]
    [InlineData(DoorbellKind.Futex, true)]
    public void A_requester_of_another_user_is_refused_the_signal_doorbell_at_the_handover(DoorbellKind doorbell, bool works)
    {
        const uint Nobody = 65534;
        Assert.SkipUnless(LibC.geteuid() == 0, "only root can start the requester as another user (uid 65534)");
        string setpriv = ExternalProgram.FindOnPath("setpriv")
            ?? throw new InvalidOperationException("setpriv (util-linux) is needed to run the requester as uid 65534; install util-linux");
        string endpoint = SocketNames.NewAbstract("duplexuser"); // a path's socket file would need write permission for uid 65534
        new TestThread(() =>
        {
            using var server = BootstrapServer.Listen(endpoint, PeerPolicy.AllowUsers(Nobody));
            using var duplex = IpcChannel.CreateDuplex<long, long>(new IpcChannelOptions { Doorbell = doorbell, SpinBudget = TimeSpan.Zero, YieldBudget = TimeSpan.Zero, MaxParkTime = Long });
            var requests = duplex.Requests.Reader; // on this thread (the signal doorbell's reader)
            using var peer = PeerProcess.StartWrapped(output, [setpriv, $"--reuid={Nobody}", $"--regid={Nobody}", "--clear-groups"], null,
                "duplex-receive-from", endpoint, "0");
            using (var connection = server.Accept(Long))
            {
                Assert.Equal(Nobody, connection.Peer.Uid);
                if (works)
                {
                    connection.SendChannel(duplex, Long);
                    Assert.Equal(41, requests.Read(Long)); // parked first (no spin): the requester rang it
                    Assert.True(duplex.Responses.Writer.TryWrite(42, Long));
                }
                else
                {
                    // The requester refuses the duplex and hangs up: no reply for this side.
                    Assert.ThrowsAny<Exception>(() => connection.SendChannel(duplex, Long));
                }
            }

            peer.AssertSuccess(Long);
            if (works)
            {
                Assert.Contains("round trip 42", peer.StandardOutput, StringComparison.Ordinal);
            }
            else
            {
                Assert.Contains("refused: ", peer.StandardOutput, StringComparison.Ordinal);
                Assert.Contains("Operation not permitted", peer.StandardOutput, StringComparison.Ordinal);
                Assert.Contains("Use the futex or eventfd doorbell", peer.StandardOutput, StringComparison.Ordinal);
            }
        }, "answering").Join(TimeSpan.FromSeconds(90));
    }
}
