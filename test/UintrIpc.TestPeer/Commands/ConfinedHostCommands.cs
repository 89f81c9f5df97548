using System.Globalization;
using UintrIpc.Bootstrap;
using UintrIpc.Channels;

namespace UintrIpc.TestPeer.Commands;

/// <summary>
/// What a process sees in a container-like host (test/UintrIpc.Tests/Channels/ConfinedHostTests):
/// each command prints the library's error instead of crashing, so the test reads what a user reads.
/// </summary>
internal static class ConfinedHostCommands
{
    /// <summary>
    /// `named-channel-fill name bufferSize`: creates a named message channel and writes
    /// messages of the longest length until it is full (every page of the ring touched), or
    /// prints the refusal and whether the name was left behind.
    /// </summary>
    [PeerCommand("named-channel-fill")]
    public static int NamedChannelFill(string[] args)
    {
        string name = args[0];
        try
        {
            using var channel = IpcChannel.CreateMessages(new IpcChannelOptions { Name = name, BufferSize = int.Parse(args[1], CultureInfo.InvariantCulture) });
            var payload = new byte[channel.MaxMessageLength];
            int written = 0;
            while (channel.Writer.TryWrite(0, payload))
            {
                written++;
            }

            Console.WriteLine($"filled {written} messages");
        }
        catch (UintrIpcException e)
        {
            Console.WriteLine($"refused: errno {e.Errno}: {e.Message}");
            Console.WriteLine($"name left: {File.Exists(Path.Combine("/dev/shm", name))}");
        }

        return 0;
    }

    /// <summary>`bootstrap-connect-report endpoint timeoutMs`: connects and prints the outcome.</summary>
    [PeerCommand("bootstrap-connect-report")]
    public static int ConnectReport(string[] args)
    {
        try
        {
            using var connection = BootstrapConnection.Connect(args[0], TimeSpan.FromMilliseconds(int.Parse(args[1], CultureInfo.InvariantCulture)));
            Console.WriteLine($"connected server-pid {connection.Peer.Pid}");
        }
        catch (UintrIpcException e)
        {
            Console.WriteLine($"refused: errno {e.Errno}: {e.Message}");
        }

        return 0;
    }
}
