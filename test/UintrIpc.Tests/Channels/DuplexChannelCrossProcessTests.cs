using System.Globalization;
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
}
