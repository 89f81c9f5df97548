using System.Collections.Concurrent;
using Tmds.Linux;
using UintrIpc.Bootstrap;
using UintrIpc.Memory;
using UintrIpc.Rpc;
using UintrIpc.Tests.Bootstrap;
using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.Rpc;

/// <summary>
/// Application code that throws inside the server: a handler (answered, and the exception handed to
/// <see cref="RpcServer.HandlerFailed"/>), and SessionOpened / SessionClosed subscribers, which run on
/// the server's own threads, where an escaping exception ended the whole server process; and a
/// server that accepts but never answers the hello.
/// </summary>
[Collection(CrossProcessCollection.Name)]
public sealed class RpcServerFailureTests : IDisposable
{
    private const uint Bug = 1, BlockingBug = 2, Add = 3, Sleep = 4;
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);
    private readonly RpcServer _server = new(new RpcServerOptions { WorkerThreads = 2 });
    private readonly string _endpoint = SocketNames.NewAbstract("rpcfail");
    private readonly BlockingCollection<(object? Sender, Exception Failure)> _failures = [];
    private readonly ManualResetEventSlim _sleeping = new();

    public RpcServerFailureTests()
    {
        _server.Map(Bug, static (ref RpcRequest r) => throw new InvalidOperationException($"bug {r.Args.A0}"));
        _server.MapBlocking(BlockingBug, static (ref RpcRequest r) => throw new InvalidOperationException($"blocking bug {r.Args.A0}"));
        _server.Map(Add, static (ref RpcRequest r) => r.Args.A0 + r.Args.A1);
        _server.MapBlocking(Sleep, (ref RpcRequest r) =>
        {
            _sleeping.Set();
            Thread.Sleep((int)r.Args.A0);
            return 0;
        });
        _server.HandlerFailed += (sender, failure) =>
        {
            _failures.Add((sender, failure));
            throw new InvalidOperationException("a logger that throws as well"); // dropped, the server serves on
        };
    }

    public void Dispose()
    {
        _server.Dispose();
        _sleeping.Dispose();
        _failures.Dispose();
    }

    [Fact]
    public void A_handler_that_throws_is_answered_EIO_and_its_exception_reaches_HandlerFailed_with_the_session()
    {
        RpcSession? opened = null;
        _server.SessionOpened += (_, session) => opened = session;
        _server.Start(_endpoint);
        using var client = RpcClient.Connect(_endpoint);
        for (int i = 0; i < 5; i++)
        {
            Assert.Equal(LibC.EIO, client.Call(Bug, new RpcArgs(i), s_timeout).Errno);
            Assert.Equal(LibC.EIO, client.Call(BlockingBug, new RpcArgs(i), s_timeout).Errno);
        }

        Assert.Equal(5, client.Call(Add, new RpcArgs(2, 3), s_timeout).Value); // the session serves on
        // Raised before the answer goes out: all ten are there once the calls have returned.
        var failures = _failures.ToArray();
        Assert.Equal(10, failures.Length);
        Assert.All(failures, f => Assert.Same(opened, f.Sender));
        Assert.Equal(
            [.. Enumerable.Range(0, 5).SelectMany(i => new[] { $"bug {i}", $"blocking bug {i}" })],
            failures.Select(f => Assert.IsType<InvalidOperationException>(f.Failure).Message).ToArray());
    }

    [Fact]
    public void A_SessionOpened_subscriber_that_throws_ends_that_session_only()
    {
        int opened = 0;
        using var closed = new BlockingCollection<RpcSession>();
        _server.SessionOpened += (_, _) =>
        {
            if (Interlocked.Increment(ref opened) == 1)
            {
                throw new InvalidOperationException("no state for this client");
            }
        };
        _server.SessionClosed += (_, session) => closed.Add(session);
        _server.Start(_endpoint);

        using (var refused = RpcClient.Connect(_endpoint))
        {
            Assert.Throws<RpcConnectionLostException>(() => refused.Call(Add, new RpcArgs(1, 1), s_timeout));
        }

        RpcSession first = Take(closed);
        Assert.Equal("a SessionOpened subscriber threw InvalidOperationException: no state for this client", first.CloseReason);
        using var next = RpcClient.Connect(_endpoint);
        Assert.Equal(5, next.Call(Add, new RpcArgs(2, 3), s_timeout).Value);
        var (sender, failure) = Take(_failures); // raised before the session ended
        Assert.Equal("no state for this client", failure.Message);
        Assert.Same(first, sender);
        Assert.Empty(_failures);
    }

    [Fact]
    public void A_SessionClosed_subscriber_that_throws_does_not_end_the_server()
    {
        using var closed = new BlockingCollection<RpcSession>();
        _server.SessionClosed += (_, session) =>
        {
            closed.Add(session);
            throw new InvalidOperationException($"cleanup of {session.Id} failed");
        };
        _server.Start(_endpoint);

        // Released by the session thread: the client leaves with nothing running.
        RpcClient idle = RpcClient.Connect(_endpoint);
        ulong idleId = idle.SessionId;
        idle.Dispose();
        Assert.Equal(idleId, Take(closed).Id);
        Assert.Equal($"cleanup of {idleId} failed", Take(_failures).Failure.Message);

        // Released by a worker: the client leaves while its blocking handler runs, which drops the last hold.
        RpcClient busy = RpcClient.Connect(_endpoint);
        ulong busyId = busy.SessionId;
        var call = busy.CallAsync(Sleep, new RpcArgs(1000));
        Assert.True(_sleeping.Wait(s_timeout), "the blocking handler never started");
        busy.Dispose();
        Assert.Throws<RpcConnectionLostException>(() => call.AsTask().GetAwaiter().GetResult());
        Assert.Equal(busyId, Take(closed).Id);
        Assert.Equal($"cleanup of {busyId} failed", Take(_failures).Failure.Message);

        using var next = RpcClient.Connect(_endpoint);
        Assert.Equal(5, next.Call(Add, new RpcArgs(2, 3), s_timeout).Value);
        Assert.Empty(_failures);
    }

    [Fact]
    public void A_server_that_never_sends_its_welcome_times_out_naming_ConnectTimeout()
    {
        using var stalled = BootstrapServer.Listen(_endpoint); // accepts, then says nothing
        using var accepted = new BlockingCollection<BootstrapConnection>();
        var acceptor = new Thread(() => accepted.Add(stalled.Accept(s_timeout))) { IsBackground = true };
        acceptor.Start();
        var timeout = Assert.Throws<TimeoutException>(() => RpcClient.Connect(_endpoint, new RpcClientOptions { ConnectTimeout = TimeSpan.FromMilliseconds(300) }));
        Assert.Contains("RpcClientOptions.ConnectTimeout (300 ms)", timeout.Message);
        Assert.IsType<TimeoutException>(timeout.InnerException);
        Take(accepted).Dispose();
    }

    [Theory]
    [InlineData(1)]
    [InlineData(int.MaxValue)]
    public void A_welcome_with_a_positive_status_is_refused_and_nothing_stays_open(int status)
    {
        // A real server's welcome (the region and its numbers right) with only the status forged:
        // the header allows 0 or -errno, so anything else is malformed, not "taken as 0".
        using var forging = BootstrapServer.Listen(_endpoint);
        var server = new Thread(() =>
        {
            using BootstrapConnection connection = forging.Accept(s_timeout);
            using (BootstrapMessage hello = connection.Receive(s_timeout))
            {
                RpcHandshake.Hello parsed = RpcHandshake.ReadHello(hello.Payload.Span, out _)!.Value;
                RpcRegion region = RpcRegion.Create(4, 4096, parsed.Doorbell, 0x5E4E4, 1, connection.Peer.Pid);
                using SharedRegion shared = region.Region;
                byte[] welcome = new byte[RpcLayout.WelcomeSize];
                RpcHandshake.Write(welcome, new RpcHandshake.Welcome(status, parsed.Doorbell, 4, 4096, region.Region.Epoch, region.ServerEpoch, region.SessionId));
                connection.Send(welcome, region.Region.FileHandle);
            }

            // Until the client hangs up (bounded): its refusal closes the socket.
            long start = Environment.TickCount64;
            while (!RpcPeerLiveness.HasHungUp(connection) && Environment.TickCount64 - start < s_timeout.TotalMilliseconds)
            {
                Thread.Sleep(1);
            }
        }) { IsBackground = true };
        var before = TestFds.Snapshot();
        server.Start();
        var refused = Assert.ThrowsAny<UintrIpcException>(() => RpcClient.Connect(_endpoint, new RpcClientOptions { Doorbell = DoorbellKind.Futex, MaxCalls = 4, ArenaLength = 4096 }));
        Assert.Contains($"status {status}", refused.Message, StringComparison.Ordinal);
        Assert.True(server.Join(s_timeout), "the forging server did not see the client hang up");
        Assert.Equal("", TestFds.AddedWhenSettled(before));
    }

    private static T Take<T>(BlockingCollection<T> items)
        => items.TryTake(out T? item, s_timeout) ? item : throw new TimeoutException($"Nothing came from the server's threads within {s_timeout}.");
}
