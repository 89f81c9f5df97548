using System.Globalization;
using UintrIpc.Bootstrap;
using UintrIpc.Channels;

namespace UintrIpc.TestPeer.Commands;

/// <summary>
/// Writers that end without completing and live on, for test/UintrIpc.Tests/Channels/WriterDetachTests.cs
/// (uintripc.h 4b): the reader must read everything and then learn that its writer detached.
/// </summary>
internal static class WriterDetachCommands
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(60);

    /// <summary>
    /// channel-write-detach &lt;slot|message|duplex&gt; &lt;endpoint&gt; &lt;first&gt; &lt;count&gt; &lt;dispose|complete&gt; &lt;now|gated|late&gt;:
    /// connects (late: prints "connected" and waits for a stdin line before it receives, so that
    /// its writer attaches only then), receives the channel (its writer is made there), prints
    /// "received", waits for a stdin line when gated, writes first .. first + count - 1 (a message carries the value in 8
    /// bytes; a duplex sends them as requests and checks each response is 2 * request + 1), then
    /// either disposes only the writer (dispose: no Complete; a duplex: the whole duplex) or
    /// completes and then disposes it (complete), prints "detached N", and stays alive until stdin
    /// says "exit" (or closes). Exit 3 when a write or a response fails.
    /// </summary>
    [PeerCommand("channel-write-detach")]
    public static int WriteAndDetach(string[] args)
    {
        long first = long.Parse(args[2], CultureInfo.InvariantCulture);
        int count = int.Parse(args[3], CultureInfo.InvariantCulture);
        bool complete = args[4] == "complete";
        using var connection = BootstrapConnection.Connect(args[1], s_timeout);
        if (args[5] == "late")
        {
            Console.WriteLine("connected");
            _ = Console.ReadLine();
        }

        IDisposable channel;
        Func<long, bool> write;
        Action end;
        switch (args[0])
        {
            case "slot":
            {
                var slots = connection.ReceiveChannel<long>(s_timeout);
                var writer = slots.Writer;
                channel = slots;
                write = v => writer.TryWrite(v, s_timeout);
                end = () => End(writer, complete);
                break;
            }

            case "message":
            {
                var messages = connection.ReceiveMessageChannel(s_timeout);
                var writer = messages.Writer;
                channel = messages;
                write = v => writer.TryWrite(1, BitConverter.GetBytes(v), s_timeout);
                end = () => End(writer, complete);
                break;
            }

            default:
            {
                var duplex = connection.ReceiveDuplexChannel<long, long>(s_timeout);
                var requests = duplex.Requests.Writer;
                var responses = duplex.Responses.Reader;
                channel = duplex;
                write = v => requests.TryWrite(v, s_timeout) && responses.TryRead(out long response, s_timeout) && response == (2 * v) + 1;
                end = () =>
                {
                    if (complete)
                    {
                        requests.Complete();
                    }

                    duplex.Dispose(); // on this thread: the response reader's doorbell may be thread-bound
                };
                break;
            }
        }

        using (channel)
        {
            Console.WriteLine("received");
            if (args[5] == "gated")
            {
                _ = Console.ReadLine();
            }

            for (long v = first; v < first + count; v++)
            {
                if (!write(v))
                {
                    Console.Error.WriteLine($"value {v}: not written (or a wrong response)");
                    return 3;
                }
            }

            end();
            Console.WriteLine($"detached {count}");
            while (Console.ReadLine() is { } line && line != "exit")
            {
            }
        }

        return 0;
    }

    /// <summary>Only the writer ends here: the channel object (and the process) stay.</summary>
    private static void End<T>(System.Threading.Channels.ChannelWriter<T> writer, bool complete)
    {
        if (complete)
        {
            writer.Complete();
        }

        ((IDisposable)writer).Dispose();
    }
}
