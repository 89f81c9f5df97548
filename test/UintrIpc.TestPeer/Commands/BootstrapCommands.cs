using Tmds.Linux;
using UintrIpc.Bootstrap;
using UintrIpc.Interop;
using UintrIpc.Memory;

namespace UintrIpc.TestPeer.Commands;

/// <summary>Clients for the cross-process bootstrap tests (test/UintrIpc.Tests/Bootstrap).</summary>
internal static class BootstrapCommands
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(60);

    /// <summary>
    /// bootstrap-client &lt;endpoint&gt;: connects, receives a region whose payload is a byte
    /// pattern, copies the pattern into the region's Arena part (tag 7) through its own mapping,
    /// sends back an eventfd, and waits for the parent to write to it; prints "eventfd-value N"
    /// and succeeds if N is 42.
    /// </summary>
    [PeerCommand("bootstrap-client")]
    public static unsafe int Client(string[] args)
    {
        var endpoint = args[0];
        using var connection = BootstrapConnection.Connect(endpoint, s_timeout);
        Console.WriteLine($"connected server-pid {connection.Peer.Pid}");

        using (var message = connection.Receive(s_timeout))
        using (var region = message.AttachRegion(0))
        {
            var part = region.FindPart(PartKind.Arena, tag: 7);
            message.Payload.Span.CopyTo(new Span<byte>(region.PartPointer(part), (int)part.Length));
            Console.WriteLine($"wrote {message.Payload.Length} bytes into a region of {region.Size} bytes");
        }

        int efd = LibC.eventfd(0, LibC.EFD_CLOEXEC);
        if (efd < 0)
        {
            throw UintrIpcException.FromLastError("eventfd");
        }

        using var eventFd = new SafeFdHandle(efd, ownsHandle: true);
        connection.Send("written"u8, eventFd);

        // Wait (bounded) for the parent to write to the eventfd we passed it.
        var poll = new pollfd { fd = efd, events = LibC.POLLIN };
        if (LibC.poll(&poll, 1, (int)s_timeout.TotalMilliseconds) != 1)
        {
            Console.Error.WriteLine("the parent never wrote to the eventfd");
            return 1;
        }

        ulong value;
        if (LibC.read(efd, &value, sizeof(ulong)) != sizeof(ulong))
        {
            throw UintrIpcException.FromLastError("read(eventfd)");
        }

        Console.WriteLine($"eventfd-value {value}");
        return value == 42 ? 0 : 1;
    }

    /// <summary>
    /// bootstrap-refused-client &lt;endpoint&gt;: connects twice (the first warms the runtime up),
    /// expecting to be refused both times; prints the reason and the descriptor counts around
    /// the second attempt, and exits with 3 when refused.
    /// </summary>
    [PeerCommand("bootstrap-refused-client")]
    public static int RefusedClient(string[] args)
    {
        var endpoint = args[0];
        for (int attempt = 0; attempt < 2; attempt++)
        {
            int before = OpenFds();
            try
            {
                using var connection = BootstrapConnection.Connect(endpoint, s_timeout);
                Console.WriteLine("accepted (unexpected)");
                return 1;
            }
            catch (UintrIpcException e) when (e.Errno == LibC.EACCES)
            {
                int after = OpenFds();
                Console.WriteLine($"refused errno {e.Errno}");
                Console.WriteLine($"message: {e.Message}");
                Console.WriteLine($"fds {before} {after}");
            }
        }

        return 3;
    }

    /// <summary>
    /// bootstrap-connect-and-exit &lt;endpoint&gt;: connects (the server accepted it) and exits at
    /// once, so that the server looks at its peer only after it is gone (and reaped).
    /// </summary>
    [PeerCommand("bootstrap-connect-and-exit")]
    public static int ConnectAndExit(string[] args)
    {
        using var connection = BootstrapConnection.Connect(args[0], s_timeout);
        Console.WriteLine($"connected server-pid {connection.Peer.Pid}");
        return 0;
    }

    private static int OpenFds() => Directory.GetFileSystemEntries("/proc/self/fd").Length;
}
