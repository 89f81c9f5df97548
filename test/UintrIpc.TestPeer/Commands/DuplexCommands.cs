using System.Globalization;
using UintrIpc.Bootstrap;
using UintrIpc.Channels;

namespace UintrIpc.TestPeer.Commands;

/// <summary>The requesting side of the cross-process duplex channel tests (test/UintrIpc.Tests/Channels/DuplexChannelCrossProcessTests.cs).</summary>
internal static class DuplexCommands
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// duplex-request &lt;endpoint&gt; &lt;count&gt; &lt;pause every&gt; &lt;pause ms&gt;: connects, receives a
    /// duplex channel of long requests and long responses, sends 0 .. count - 1 one at a time and
    /// checks that each response is 2 * request + 1; after every `pause every` requests it waits
    /// `pause ms` before the next (so that the answering side's reader parks). Completes the
    /// requests and prints "requested N over KIND; sleeps S, timeouts T" (its response reader's counters).
    /// </summary>
    [PeerCommand("duplex-request")]
    public static int Request(string[] args)
    {
        int count = int.Parse(args[1], CultureInfo.InvariantCulture);
        int pauseEvery = int.Parse(args[2], CultureInfo.InvariantCulture);
        int pauseMs = int.Parse(args[3], CultureInfo.InvariantCulture);
        using var connection = BootstrapConnection.Connect(args[0], s_timeout);
        using var duplex = connection.ReceiveDuplexChannel<long, long>(s_timeout, new IpcChannelOptions { Wait = new ChannelWaitOptions { MaxParkTime = TimeSpan.FromSeconds(20) } });
        var requests = duplex.Requests.Writer;
        var responses = duplex.Responses.Reader;
        for (long i = 0; i < count; i++)
        {
            if (!requests.TryWrite(i, s_timeout))
            {
                Console.Error.WriteLine($"request {i}: no room");
                return 3;
            }

            long response = responses.Read(s_timeout);
            if (response != (2 * i) + 1)
            {
                Console.Error.WriteLine($"request {i}: response {response}");
                return 4;
            }

            if (pauseEvery > 0 && (i + 1) % pauseEvery == 0)
            {
                Thread.Sleep(pauseMs);
            }
        }

        requests.Complete();
        var counters = responses.Counters;
        Console.WriteLine($"requested {count} over {duplex.Doorbell}; sleeps {counters.Sleeps}, timeouts {counters.Timeouts}");
        return 0;
    }

    /// <summary>
    /// duplex-receive-from &lt;endpoint&gt; &lt;server uid&gt;: connects trusting a server of that uid (the
    /// test runs this peer as another user), receives a duplex channel of longs and makes one round
    /// trip; prints "round trip N" or "refused: MESSAGE" (the receive failed) and exits 0 either way.
    /// </summary>
    [PeerCommand("duplex-receive-from")]
    public static int ReceiveFrom(string[] args)
    {
        using var connection = BootstrapConnection.Connect(args[0], s_timeout, PeerPolicy.AllowUsers(uint.Parse(args[1], CultureInfo.InvariantCulture)));
        IpcDuplexChannel<long, long> duplex;
        try
        {
            duplex = connection.ReceiveDuplexChannel<long, long>(s_timeout);
        }
        catch (UintrIpcException e)
        {
            Console.WriteLine($"refused: {e.Message}");
            return 0;
        }

        using (duplex)
        {
            duplex.Requests.Writer.TryWrite(41, s_timeout);
            Console.WriteLine($"round trip {duplex.Responses.Reader.Read(s_timeout)}");
            duplex.Requests.Writer.Complete();
        }

        return 0;
    }

    /// <summary>
    /// duplex-hold &lt;endpoint&gt;: connects, receives a duplex channel of long requests and long
    /// responses, prints "holding", and then neither writes nor reads until stdin says "quit"
    /// (or closes): the other side's waits find nothing, until this process is killed.
    /// </summary>
    [PeerCommand("duplex-hold")]
    public static int Hold(string[] args)
    {
        using var connection = BootstrapConnection.Connect(args[0], s_timeout);
        using var duplex = connection.ReceiveDuplexChannel<long, long>(s_timeout);
        Console.WriteLine("holding");
        while (Console.ReadLine() is { } line && line != "quit")
        {
        }

        return 0;
    }
}
