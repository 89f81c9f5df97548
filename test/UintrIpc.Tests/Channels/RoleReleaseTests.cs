using UintrIpc.Channels;
using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.Channels;

/// <summary>
/// A named channel's Reader or Writer whose constructor throws after it took the role lock
/// (uintripc.h 1f) gives the role back at once: another channel object of the name, in this
/// process or another, may take it while the failed one is still open (not disposed).
/// </summary>
[Collection(CrossProcessCollection.Name)]
public sealed class RoleReleaseTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan StartUp = TimeSpan.FromSeconds(180); // a child's start-up on a loaded machine
    private readonly ShmNames _names = new();

    public void Dispose() => _names.Dispose();

    [Fact]
    public void A_writer_whose_constructor_failed_leaves_the_writer_role_free()
    {
        Assert.SkipUnless(IpcChannel.IsDoorbellAvailable(DoorbellKind.EventFd, out string why), why);
        string name = _names.New("rolefail");
        using var creator = IpcChannel.CreateBounded<long>(new IpcChannelOptions { Name = name, Capacity = 16, Doorbell = DoorbellKind.EventFd });
        using var other = IpcChannel.OpenNamed<long>(name);

        // An eventfd writer needs its reader's descriptor, which this object has not: the writer's
        // constructor throws, after CreateWriter took the writer role.
        var failed = Assert.Throws<InvalidOperationException>(() => other.Writer);
        Assert.Contains("create this channel object's Reader before its Writer", failed.Message, StringComparison.Ordinal);

        // The failed object still lives; the creator's reader and writer take the roles.
        var reader = creator.Reader;
        Assert.True(creator.Writer.TryWrite(42));
        Assert.True(reader.TryRead(out long value));
        Assert.Equal(42, value);
    }

    [Fact]
    public void A_reader_whose_constructor_failed_in_another_process_leaves_the_reader_role_free()
    {
        Assert.SkipUnless(IpcChannel.IsDoorbellAvailable(DoorbellKind.Signal, out string why), why);
        string name = _names.New("rolefail");
        using var creator = IpcChannel.CreateBounded<long>(new IpcChannelOptions { Name = name, Capacity = 16, Doorbell = DoorbellKind.Signal });
        using var child = PeerProcess.Start(output, "named-reader-fails", name);
        child.WaitForOutput("failed: ", StartUp);
        Assert.Contains("already has a handler", child.StandardOutput, StringComparison.Ordinal);

        // The child keeps its channel object open; the reader role is free all the same.
        var reader = creator.Reader;
        Assert.True(creator.Writer.TryWrite(5));
        Assert.True(reader.TryRead(out long value));
        Assert.Equal(5, value);

        child.WriteLine("done");
        child.AssertSuccess(StartUp);
    }
}
