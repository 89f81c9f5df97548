using System.Globalization;
using UintrIpc.Bootstrap;
using UintrIpc.Channels;
using UintrIpc.Interop;
using UintrIpc.Signaling;

namespace UintrIpc.TestPeer.Commands;

/// <summary>Commands for the user-interrupt doorbell tests (uintr-sim and hardware, across processes).</summary>
internal static class UintrCommands
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(60);

    /// <summary>`uintr-sim-send &lt;fd&gt; &lt;count&gt;`: `uintr-send sim &lt;fd&gt; &lt;count&gt;`.</summary>
    [PeerCommand("uintr-sim-send")]
    public static int SimSend(string[] args) => Send(["sim", .. args]);

    /// <summary>
    /// `uintr-send &lt;real|sim&gt; &lt;fd&gt; &lt;count&gt; [pause ms]`: registers a sender with the inherited
    /// vector fd number, closes the fd (the registration keeps what it needs), prints
    /// "registered", waits for a line "go" on stdin, rings <c>count</c> times (sleeping
    /// <c>pause</c> ms after each) and prints "sent &lt;count&gt;". The parent kills us if it gives up.
    /// </summary>
    [PeerCommand("uintr-send")]
    public static int Send(string[] args)
    {
        bool simulated = args[0] == "sim";
        int fd = Int(args[1]);
        int count = Int(args[2]);
        int pause = args.Length > 3 ? Int(args[3]) : 0;
        UintrDoorbellSender sender;
        using (var vectorFd = new SafeFdHandle(fd, ownsHandle: true))
        {
            sender = new UintrDoorbellSender(vectorFd, simulated);
        }

        using (sender)
        {
            Console.WriteLine($"registered {sender}");
            string? line = Console.ReadLine();
            if (line != "go")
            {
                Console.Error.WriteLine($"expected 'go', got '{line}'");
                return 3;
            }

            for (int i = 0; i < count; i++)
            {
                sender.Ring();
                if (pause > 0)
                {
                    Thread.Sleep(pause);
                }
            }

            Console.WriteLine($"sent {count}");
        }

        return 0;
    }

    /// <summary>
    /// `uintr-receive &lt;endpoint&gt; &lt;vector&gt; &lt;wakes&gt;`: a hardware receiver in this process.
    /// Connects to the parent's bootstrap server, sends the vector fd (SCM_RIGHTS) with the
    /// payload "uintr", then waits (30 s per wait) until it has been woken <c>wakes</c>
    /// times, printing "woken N" after each, and stays alive until stdin closes or says "exit".
    /// </summary>
    [PeerCommand("uintr-receive")]
    public static int Receive(string[] args)
    {
        int vector = Int(args[1]);
        int wakes = Int(args[2]);
        using var receiver = new UintrDoorbellReceiver(vector); // the main thread: not a pool thread
        using (var connection = BootstrapConnection.Connect(args[0], s_timeout))
        {
            connection.Send("uintr"u8, receiver.VectorFd);
        }

        for (int n = 1; n <= wakes; n++)
        {
            ulong vectors = receiver.WaitForVectors(TimeSpan.FromSeconds(30));
            if (vectors != 1ul << vector)
            {
                Console.Error.WriteLine($"wait {n}: vectors 0x{vectors:x} instead of the interrupt of vector {vector}");
                return 3;
            }

            Console.WriteLine($"woken {n}");
        }

        string? line = Console.ReadLine();
        return line is null or "exit" ? 0 : 4;
    }

    /// <summary>
    /// `channel-produce-tagged &lt;region fd&gt; &lt;doorbell fd|-&gt; &lt;id&gt; &lt;count&gt; &lt;pause every&gt;`: one of
    /// several producers of an MPSC slot channel: writes (id &lt;&lt; 32) | i for i in 0..count-1,
    /// sleeping 1 ms after every <c>pause every</c> values (so the consumer goes to sleep in
    /// between), never completes, prints "produced N; counters", then keeps its writer until a line
    /// (or the end) of its input: a producer that detached while another had not attached yet
    /// would leave the reader no writer, which ends its drained wait (uintripc.h 4b).
    /// </summary>
    [PeerCommand("channel-produce-tagged")]
    public static int ProduceTagged(string[] args)
    {
        long id = Int(args[2]);
        int count = Int(args[3]), every = Int(args[4]);
        IpcChannel<long> channel;
        using (var region = new SafeFdHandle(Int(args[0]), ownsHandle: true))
        using (SafeFdHandle? doorbell = args[1] == "-" ? null : new SafeFdHandle(Int(args[1]), ownsHandle: true))
        {
            channel = IpcChannel.AttachWriter<long>(region, doorbell);
        }

        using (channel)
        {
            IpcChannelWriter<long> producer = channel.Writer;
            for (int i = 0; i < count; i++)
            {
                if (!producer.TryWrite((id << 32) | (uint)i, s_timeout))
                {
                    Console.Error.WriteLine($"value {i}: no room within {s_timeout.TotalSeconds} s; {producer.Counters}");
                    return 3;
                }

                if (every > 0 && i % every == every - 1)
                {
                    Thread.Sleep(1);
                }
            }

            Console.WriteLine($"produced {count}; {producer.Counters}");
            Console.Out.Flush();
            Console.In.ReadLine();
        }

        return 0;
    }

    private static int Int(string s) => int.Parse(s, CultureInfo.InvariantCulture);
}
