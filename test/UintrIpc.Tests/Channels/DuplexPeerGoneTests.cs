using UintrIpc.Bootstrap;
using UintrIpc.Channels;
using UintrIpc.Rings;
using UintrIpc.Signaling;
using UintrIpc.Tests.Bootstrap;
using UintrIpc.Tests.Infrastructure;
using UintrIpc.Tests.Signaling;

namespace UintrIpc.Tests.Channels;

/// <summary>
/// One end of a duplex gone while the other waits (review21): this process answers, a child
/// (UintrIpc.TestPeer duplex-hold) received the duplex over a bootstrap connection and is killed
/// (SIGKILL) while this side waits for a request or for room for a response. Every wait must end
/// with <see cref="PeerGoneException"/>, well inside its own bound: the waits here have a 30 s
/// timeout (or a token cancelled after 30 s) while the park slice and the heartbeat's timeout are
/// 60 s, so a wait that learns of the death only from those ends with the wrong outcome.
/// </summary>
[Collection(CrossProcessCollection.Name)]
public sealed class DuplexPeerGoneTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan WaitBound = TimeSpan.FromSeconds(30);
    private readonly SocketNames _sockets = new();

    public void Dispose() => _sockets.Dispose();

    public static TheoryData<DoorbellKind, string> Cases()
    {
        var cases = new TheoryData<DoorbellKind, string>();
        foreach (var doorbell in new[] { DoorbellKind.Futex, DoorbellKind.EventFd, DoorbellKind.Signal, DoorbellKind.UintrSimulated })
        {
            foreach (string operation in new[] { "read", "wait-to-read", "read-async", "wait-to-read-async", "write", "write-async", "wait-to-write-async" })
            {
                // Async reads need a doorbell any thread can wait on (NotSupportedException otherwise).
                if (doorbell is not (DoorbellKind.Signal or DoorbellKind.UintrSimulated) || !operation.Contains("read-async", StringComparison.Ordinal))
                {
                    cases.Add(doorbell, operation);
                }
            }
        }

        return cases;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void A_wait_on_a_duplex_whose_peer_is_killed_ends_with_PeerGoneException(DoorbellKind doorbell, string operation)
        => WaitUntilPeerKilled(doorbell, operation);

    /// <summary>
    /// The same with real user interrupts, in the emulated-uintr job (trait Uintr=Real): the parked
    /// reader is woken by a SENDUIPI of the process's peer-end watcher thread to its own vector (review22).
    /// </summary>
    [Theory]
    [InlineData(DoorbellKind.Uintr, "read", Traits = [RealUintr.TraitName, RealUintr.TraitValue])]
    [InlineData(DoorbellKind.Uintr, "wait-to-read", Traits = [RealUintr.TraitName, RealUintr.TraitValue])]
    [InlineData(DoorbellKind.Uintr, "write", Traits = [RealUintr.TraitName, RealUintr.TraitValue])]
    public void A_wait_on_a_user_interrupt_duplex_whose_peer_is_killed_ends_with_PeerGoneException(DoorbellKind doorbell, string operation)
    {
        RealUintr.SkipUnlessDoorbellAvailable(doorbell);
        WaitUntilPeerKilled(doorbell, operation);
    }

    private void WaitUntilPeerKilled(DoorbellKind doorbell, string operation)
    {
        string endpoint = _sockets.NewPath("duplex-gone");
        Exception? outcome = null;
        new TestThread(() =>
        {
            using var server = BootstrapServer.Listen(endpoint);
            using var duplex = IpcChannel.CreateDuplex<long, long>(new IpcChannelOptions
            {
                Capacity = 8, Doorbell = doorbell, MaxParkTime = Long, PeerTimeout = Long,
            });
            using var peer = PeerProcess.Start(output, "duplex-hold", endpoint);
            using (var connection = server.Accept(Long))
            {
                connection.SendChannel(duplex, Long);
            }

            peer.WaitForOutput("holding");
            bool writes = operation.Contains("write", StringComparison.Ordinal);
            var responses = duplex.Responses.Writer;
            while (writes && responses.TryWrite(1))
            {
            }

            // The kill comes once the wait is under way: a reader has announced its sleep, a writer has had time to back off.
            var killer = new TestThread(() =>
            {
                if (writes)
                {
                    Thread.Sleep(300);
                }
                else
                {
                    TestWait.Until(() => new WaitBlock(duplex.Region, DuplexPart.Requests).IsConsumerSleeping, "the request reader to park", Long);
                }

                peer.Kill(); // SIGKILL
            }, "killer");
            var requests = duplex.Requests.Reader;
            using var cancel = new CancellationTokenSource(WaitBound);
            outcome = Record.Exception(() =>
            {
                object result = operation switch
                {
                    "read" => requests.TryRead(out _, WaitBound),
                    "wait-to-read" => requests.WaitToRead(WaitBound),
                    "read-async" => requests.ReadAsync(cancel.Token).AsTask().GetAwaiter().GetResult(),
                    "wait-to-read-async" => requests.WaitToReadAsync(cancel.Token).AsTask().GetAwaiter().GetResult(),
                    "write" => responses.TryWrite(2, WaitBound),
                    "write-async" => Run(responses.WriteAsync(2, cancel.Token)),
                    _ => responses.WaitToWriteAsync(cancel.Token).AsTask().GetAwaiter().GetResult(),
                };
                output.WriteLine($"{operation} returned {result}");
            });
            killer.Join(Long);
        }, "answering").Join(TimeSpan.FromSeconds(120));

        output.WriteLine($"{doorbell} {operation}: {outcome?.GetType().Name ?? "no exception"}: {outcome?.Message}");
        Assert.IsType<PeerGoneException>(outcome);
    }

    private static bool Run(ValueTask write)
    {
        write.AsTask().GetAwaiter().GetResult();
        return true;
    }
}
