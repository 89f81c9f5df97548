using System.Globalization;
using UintrIpc.Interop;
using UintrIpc.Signaling;

namespace UintrIpc.TestPeer.Commands;

/// <summary>Commands for the user-interrupt doorbell tests (uintr-sim across processes).</summary>
internal static class UintrCommands
{
    /// <summary>
    /// `uintr-sim-send &lt;fd&gt; &lt;count&gt;`: attaches a uintr-sim sender to the inherited vector
    /// fd number, closes the fd (the sender keeps its own mapping), prints "registered",
    /// waits for a line "go" on stdin, rings <c>count</c> times and prints "sent &lt;count&gt;".
    /// The parent kills us if it gives up.
    /// </summary>
    [PeerCommand("uintr-sim-send")]
    public static int SimSend(string[] args)
    {
        int fd = int.Parse(args[0], CultureInfo.InvariantCulture);
        int count = int.Parse(args[1], CultureInfo.InvariantCulture);
        UintrDoorbellSender sender;
        using (var vectorFd = new SafeFdHandle(fd, ownsHandle: true))
        {
            sender = new UintrDoorbellSender(vectorFd, simulated: true);
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
            }

            Console.WriteLine($"sent {count}");
        }

        return 0;
    }
}
