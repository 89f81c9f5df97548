using System.Text;
using SyscallForward.Client;
using Tmds.Linux;
using UintrIpc.Tests.Infrastructure;
using UintrIpc.Tests.Rings;

namespace UintrIpc.Tests.SyscallForward;

/// <summary>A FIFO in the served directory, opened by a client the way a file is (review21).</summary>
public sealed partial class ForwardServerTests
{
    /// <summary>
    /// A client that can make a FIFO in the served directory opens it read-only without
    /// O_NONBLOCK, with nobody writing it. The open must be answered at once (it held the session
    /// thread, or with --blocking-io a worker, in openat2 for good, also after the client left),
    /// the FIFO must still work as a pipe, and the session must end when the client exits.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public unsafe void A_FIFO_opened_for_reading_with_no_writer_is_answered_at_once_and_its_session_ends_with_the_client(bool blockingIo)
    {
        _tree.WriteFile("plain.txt", "plain\n");
        fixed (byte* fifo = Encoding.UTF8.GetBytes(Path.Combine(_tree.Root, "fifo") + "\0"))
        {
            Assert.Equal(0, LibC.mkfifo(fifo, 0x180 /* 0600 */));
        }

        using var server = blockingIo ? StartServer("--blocking-io") : StartServer();
        using (var opener = PeerProcess.Start(output, "fwd-open-fifo", _endpoint, "fifo"))
        {
            opener.WaitForExit(TimeSpan.FromSeconds(60));
            Assert.Contains("fifo ok", opener.StandardOutput, StringComparison.Ordinal);
            opener.AssertSuccess();
        }

        // The session thread is free: it sees the client gone and closes its session and both ends.
        Bounded.WaitUntil(() => DisconnectedCount(server.Output) == 1, "the server to log the FIFO client's disconnect", TimeSpan.FromSeconds(30));
        using (var other = ForwardClient.Connect(_endpoint))
        {
            using var stream = other.OpenStream("plain.txt", FileAccess.Read);
            Assert.Equal("plain\n", new StreamReader(stream).ReadToEnd());
        }

        server.Stop();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public unsafe void A_read_of_an_empty_FIFO_ends_when_its_client_exits(bool blockingIo)
    {
        fixed (byte* fifo = Encoding.UTF8.GetBytes(Path.Combine(_tree.Root, "fifo") + "\0"))
        {
            Assert.Equal(0, LibC.mkfifo(fifo, 0x180 /* 0600 */));
        }

        using var server = blockingIo ? StartServer("--blocking-io") : StartServer();
        using (var reader = PeerProcess.Start(output, "fwd-open-fifo", _endpoint, "fifo", "then-read-empty"))
        {
            reader.WaitForExit(TimeSpan.FromSeconds(60));
            Assert.Contains("read waits", reader.StandardOutput, StringComparison.Ordinal);
            reader.AssertSuccess();
        }

        // The thread in the read (session thread, or a worker) sees the client's exit: the session closes.
        Bounded.WaitUntil(() => DisconnectedCount(server.Output) == 1, "the server to log the disconnect of the client whose read waited", TimeSpan.FromSeconds(30));
        server.Stop();
    }

    /// <summary>
    /// A read of an empty FIFO waits for a client that stays alive; the server stops (SIGTERM).
    /// The wait must end with the stop (RpcSession.Closing), so the session ends and closes its
    /// descriptors before the process exits, instead of its thread staying in poll past the stop.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public unsafe void A_read_of_an_empty_FIFO_ends_when_the_server_stops_while_its_client_lives(bool blockingIo)
    {
        fixed (byte* fifo = Encoding.UTF8.GetBytes(Path.Combine(_tree.Root, "fifo") + "\0"))
        {
            Assert.Equal(0, LibC.mkfifo(fifo, 0x180 /* 0600 */));
        }

        using var server = blockingIo ? StartServer("--blocking-io") : StartServer();
        using var reader = PeerProcess.Start(output, "fwd-open-fifo", _endpoint, "fifo", "then-read-and-stay");
        reader.WaitForOutput("read waits");
        server.Stop();
        Assert.Equal(1, DisconnectedCount(server.Output));
        Assert.Contains("descriptors closed", server.Output, StringComparison.Ordinal);
        Assert.False(reader.HasExited, "the client was to stay alive through the stop");
    }
}
