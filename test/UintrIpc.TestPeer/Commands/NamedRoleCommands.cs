using UintrIpc.Channels;

namespace UintrIpc.TestPeer.Commands;

/// <summary>
/// The other processes of a named channel, for its role locks (test/UintrIpc.Tests/Channels/
/// NamedChannelRoleTests.cs, uintripc.h 1f). Each waits on stdin after its work ("done" or EOF
/// ends it; the test kills it otherwise), so the test decides when its locks go.
/// </summary>
internal static class NamedRoleCommands
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(30);

    /// <summary>
    /// named-create &lt;slot|message&gt; &lt;name&gt; [read]: creates the named single-writer channel (futex
    /// doorbell) and, with "read", its reader (which reads nothing), prints "created", and keeps it until stdin says so.
    /// </summary>
    [PeerCommand("named-create")]
    public static int Create(string[] args)
    {
        var options = new IpcChannelOptions { Name = args[1], Capacity = 64, BufferSize = 4096, Doorbell = DoorbellKind.Futex };
        using IDisposable channel = args[0] == "slot" ? IpcChannel.CreateBounded<long>(options) : IpcChannel.CreateMessages(options);
        if (args is [_, _, "read"])
        {
            _ = channel is IpcChannel<long> slots ? slots.Reader : (object)((IpcMessageChannel)channel).Reader;
        }

        Console.WriteLine("created");
        _ = Console.ReadLine();
        return 0;
    }

    /// <summary>
    /// named-write &lt;slot|message&gt; &lt;name&gt; &lt;first&gt; &lt;count&gt; &lt;stay|exit&gt;: opens the named
    /// channel and its writer; prints "refused: &lt;message&gt;" and exits 5 if the writer is refused,
    /// else writes first, first + 1, ... (count values; a message carries the value in 8 bytes), prints
    /// "wrote N", then either waits for stdin and disposes (stay) or ends the process at once
    /// without disposing anything and without completing the channel (exit).
    /// </summary>
    [PeerCommand("named-write")]
    public static int Write(string[] args)
    {
        long first = long.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture);
        int count = int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture);
        IDisposable channel;
        Func<long, bool> write;
        try
        {
            if (args[0] == "slot")
            {
                var c = IpcChannel.OpenNamed<long>(args[1]);
                channel = c;
                var writer = c.Writer;
                write = v => writer.TryWrite(v, s_wait);
            }
            else
            {
                var c = IpcChannel.OpenNamedMessages(args[1]);
                channel = c;
                var writer = c.Writer;
                write = v => writer.TryWrite(1, BitConverter.GetBytes(v), s_wait);
            }
        }
        catch (InvalidOperationException e)
        {
            Console.WriteLine("refused: " + e.Message);
            return 5;
        }

        int written = 0;
        for (long v = first; v < first + count && write(v); v++)
        {
            written++;
        }

        Console.WriteLine($"wrote {written}");
        if (args[4] == "exit")
        {
            Environment.Exit(written == count ? 0 : 3); // no Dispose: the kernel drops the locks with the process
        }

        _ = Console.ReadLine();
        channel.Dispose();
        return written == count ? 0 : 3;
    }

    /// <summary>
    /// named-read &lt;slot|message&gt; &lt;name&gt;: opens the named channel and its reader; prints
    /// "refused: &lt;message&gt;" and exits 5 if the reader is refused, else "reading", and keeps it
    /// until stdin says so.
    /// </summary>
    [PeerCommand("named-read")]
    public static int Read(string[] args)
    {
        try
        {
            using IDisposable channel = args[0] == "slot" ? WithReader(IpcChannel.OpenNamed<long>(args[1]), c => c.Reader) : WithReader(IpcChannel.OpenNamedMessages(args[1]), c => c.Reader);
            Console.WriteLine("reading");
            _ = Console.ReadLine();
            return 0;
        }
        catch (InvalidOperationException e)
        {
            Console.WriteLine("refused: " + e.Message);
            return 5;
        }
    }

    /// <summary>
    /// named-read-all &lt;slot|message&gt; &lt;name&gt; [wait]: opens the named channel (with "wait": prints
    /// "opened" and waits for a line on stdin) and its reader, prints "reading", then reads until the channel is completed (each read waits 30 s at most from the
    /// last value) and prints "read N in order B completed C" (B: the values were 0, 1, 2, ...; C: it ended
    /// by the completion, not a timeout).
    /// </summary>
    [PeerCommand("named-read-all")]
    public static int ReadAll(string[] args)
    {
        long read = 0;
        bool inOrder = true, completed;
        if (args[0] == "slot")
        {
            using var channel = IpcChannel.OpenNamed<long>(args[1]);
            WaitIfAsked(args);
            var reader = channel.Reader;
            Console.WriteLine("reading");
            while (reader.TryRead(out long value, s_wait))
            {
                inOrder &= value == read++;
            }

            completed = reader.IsCompleted;
        }
        else
        {
            using var channel = IpcChannel.OpenNamedMessages(args[1]);
            WaitIfAsked(args);
            var reader = channel.Reader;
            Console.WriteLine("reading");
            byte[] buffer = new byte[8];
            while (reader.TryRead(out _, buffer, out int length, s_wait))
            {
                inOrder &= length == 8 && BitConverter.ToInt64(buffer) == read++;
            }

            completed = reader.IsCompleted;
        }

        Console.WriteLine($"read {read} in order {inOrder} completed {completed}");
        return 0;
    }

    /// <summary>With a last argument "wait": prints "opened" and waits for a line on stdin (the test's go).</summary>
    private static void WaitIfAsked(string[] args)
    {
        if (args is [.., "wait"])
        {
            Console.WriteLine("opened");
            _ = Console.ReadLine();
        }
    }

    /// <summary>
    /// named-receive-write &lt;slot|message&gt; &lt;endpoint&gt; &lt;first&gt; &lt;count&gt;: connects to the
    /// bootstrap server, receives the (named) channel over it (sharing its creator's open file
    /// description), writes count values from first, prints "wrote N", and on stdin completes the channel.
    /// </summary>
    [PeerCommand("named-receive-write")]
    public static int ReceiveWrite(string[] args)
    {
        long first = long.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture);
        int count = int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture);
        using var connection = Bootstrap.BootstrapConnection.Connect(args[1], s_wait);
        int written = 0;
        if (args[0] == "slot")
        {
            using var channel = connection.ReceiveChannel<long>(s_wait);
            for (long v = first; v < first + count && channel.Writer.TryWrite(v, s_wait); v++)
            {
                written++;
            }

            Console.WriteLine($"wrote {written}");
            _ = Console.ReadLine();
            _ = channel.Writer.TryComplete();
        }
        else
        {
            using var channel = connection.ReceiveMessageChannel(s_wait);
            for (long v = first; v < first + count && channel.Writer.TryWrite(1, BitConverter.GetBytes(v), s_wait); v++)
            {
                written++;
            }

            Console.WriteLine($"wrote {written}");
            _ = Console.ReadLine();
            _ = channel.Writer.TryComplete();
        }

        return written == count ? 0 : 3;
    }

    /// <summary>Creates <paramref name="channel"/>'s reader (<paramref name="reader"/>); disposes the channel if that throws.</summary>
    private static TChannel WithReader<TChannel>(TChannel channel, Func<TChannel, object> reader)
        where TChannel : IDisposable
    {
        try
        {
            _ = reader(channel);
            return channel;
        }
        catch
        {
            channel.Dispose();
            throw;
        }
    }
}
