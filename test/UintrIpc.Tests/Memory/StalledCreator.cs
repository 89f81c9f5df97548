using UintrIpc.Channels;
using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.Memory;

/// <summary>
/// The frame of the tests whose named creator stops inside its create (DeadCreatorOpenTests,
/// UnnamedCreateTests): a real child (UintrIpc.TestPeer region-create-stall,
/// Commands/OpenNamedCommands.cs) stopped by a test-only hook, and what a new creator of the name
/// must then be able to do.
/// </summary>
internal static class StalledCreator
{
    /// <summary>A child's start-up on a loaded machine.</summary>
    internal static readonly TimeSpan StartUp = TimeSpan.FromSeconds(180);

    /// <summary>
    /// Starts the child creating <paramref name="name"/> and returns once it stopped at
    /// <paramref name="point"/> (before-lock, before-publish); <paramref name="inPlace"/>: it creates
    /// the name O_EXCL first (the way kept where there is no O_TMPFILE, and earlier versions' way).
    /// </summary>
    internal static PeerProcess Start(ITestOutputHelper output, string name, string point, bool inPlace = false)
    {
        var creator = inPlace ? PeerProcess.Start(output, "region-create-stall", name, point, "in-place") : PeerProcess.Start(output, "region-create-stall", name, point);
        try
        {
            creator.WaitForOutput("stalled", StartUp);
            return creator;
        }
        catch
        {
            creator.Dispose();
            throw;
        }
    }

    /// <summary>Starts the child as <see cref="Start"/> does, kills it (SIGKILL) where it stopped and waits for its end.</summary>
    internal static void StartAndKill(ITestOutputHelper output, string name, string point, bool inPlace = false)
    {
        using var creator = Start(output, name, point, inPlace);
        creator.Kill();
        Assert.NotEqual(0, creator.WaitForExit(StartUp));
    }

    /// <summary>A new creator of <paramref name="name"/> succeeds, and a value goes through its channel.</summary>
    internal static void AssertCreatesAgain(string name, TimeSpan initTimeout)
    {
        using var again = IpcChannel.CreateBounded<long>(new IpcChannelOptions { Name = name, Capacity = 16 });
        using var opened = IpcChannel.OpenNamed<long>(name, initTimeout: initTimeout);
        Assert.True(opened.Writer.TryWrite(7));
        Assert.True(again.Reader.TryRead(out long value));
        Assert.Equal(7, value);
    }
}
