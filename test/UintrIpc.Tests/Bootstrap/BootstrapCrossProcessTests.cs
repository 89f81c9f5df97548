using System.Collections.Concurrent;
using Tmds.Linux;
using UintrIpc.Bootstrap;
using UintrIpc.Memory;
using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.Bootstrap;

/// <summary>The bootstrap between this process and a real child (UintrIpc.TestPeer, Commands/BootstrapCommands.cs).</summary>
[Collection(CrossProcessCollection.Name)]
public sealed class BootstrapCrossProcessTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan s_timeout = PeerProcess.DefaultTimeout;
    private readonly SocketNames _names = new();

    public void Dispose() => _names.Dispose();

    public static TheoryData<bool> Abstract => new() { false, true };

    [Theory]
    [MemberData(nameof(Abstract))]
    public unsafe void A_child_attaches_the_region_writes_it_and_sends_back_an_eventfd(bool isAbstract)
    {
        string endpoint = isAbstract ? SocketNames.NewAbstract() : _names.NewPath();
        using var server = BootstrapServer.Listen(endpoint);
        using var child = PeerProcess.Start(output, "bootstrap-client", endpoint);
        using var connection = server.Accept(s_timeout);
        Assert.Equal(child.Pid, connection.Peer.Pid);
        Assert.Equal((uint)LibC.geteuid(), connection.Peer.Uid);

        using var region = SharedRegion.CreateAnonymous(new PartSpec(PartKind.Arena, 7, 4096));
        var part = region.FindPart(PartKind.Arena, 7);
        var pattern = new byte[part.Length];
        new Random(1234).NextBytes(pattern);
        var mapped = new Span<byte>(region.PartPointer(part), (int)part.Length);
        Assert.False(mapped.SequenceEqual(pattern));
        connection.SendRegion(region, pattern);

        // The child wrote the pattern through its own mapping before sending its eventfd.
        using var reply = connection.Receive(s_timeout);
        Assert.Equal("written"u8.ToArray(), reply.Payload.ToArray());
        Assert.Equal(1, reply.FdCount);
        Assert.True(mapped.SequenceEqual(pattern), "the child's writes should be visible in our mapping");

        // Use the child's eventfd: the child waits for exactly this value.
        using var childEvent = reply.TakeFd(0);
        TestFds.WriteCounter(childEvent, 42);
        child.AssertSuccess();
        Assert.Contains("eventfd-value 42", child.StandardOutput, StringComparison.Ordinal);
        Assert.Contains($"connected server-pid {Environment.ProcessId}", child.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_refused_child_learns_why_and_receives_nothing()
    {
        uint self = LibC.geteuid();
        string endpoint = _names.NewPath();
        using var server = BootstrapServer.Listen(endpoint, PeerPolicy.AllowUsers(self + 1000));
        var refused = new ConcurrentQueue<PeerRefusedEventArgs>();
        server.PeerRefused += (_, e) => refused.Enqueue(e);
        using var cts = new CancellationTokenSource();
        var accept = server.AcceptAsync(s_timeout, cts.Token);

        using var child = PeerProcess.Start(output, "bootstrap-refused-client", endpoint);
        Assert.Equal(3, child.WaitForExit());

        // The server never handed out a connection, so it could not pass or map anything.
        Assert.False(accept.IsCompleted);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => accept.WaitAsync(s_timeout));
        Assert.Equal(2, refused.Count);
        Assert.All(refused, r => Assert.Equal(child.Pid, r.Peer.Pid));

        string stdout = child.StandardOutput;
        Assert.Contains($"refused errno {LibC.EACCES}", stdout, StringComparison.Ordinal);
        Assert.Contains($"The bootstrap server refused this process: {refused.First().Reason}.", stdout, StringComparison.Ordinal);
        Assert.Contains("allow-list", stdout, StringComparison.Ordinal);
        Assert.Contains($"uid {self}", stdout, StringComparison.Ordinal);
        // The child's descriptor count is the same before and after its refused attempt.
        var counts = stdout.Split('\n').Where(l => l.StartsWith("fds ", StringComparison.Ordinal)).Select(l => l.Trim().Split(' ')).ToArray();
        Assert.Equal(2, counts.Length);
        Assert.Equal(counts[1][1], counts[1][2]);
    }
}
