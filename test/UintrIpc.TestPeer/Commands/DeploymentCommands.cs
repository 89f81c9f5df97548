using UintrIpc.Channels;

namespace UintrIpc.TestPeer.Commands;

/// <summary>Commands run from a copy of the peer's folder that lacks a file a deployment needs.</summary>
internal static class DeploymentCommands
{
    /// <summary>
    /// Prints the default doorbell, then creates a channel with it (anonymous, then named
    /// args[0]) and prints the doorbell it got or the exception it threw. Exits 0 either way.
    /// </summary>
    [PeerCommand("default-doorbell")]
    public static int DefaultDoorbell(string[] args)
    {
        Console.WriteLine($"default {IpcChannel.DefaultDoorbell}");
        foreach (string? name in new[] { null, args[0] })
        {
            try
            {
                using var channel = IpcChannel.CreateBounded<long>(new IpcChannelOptions { Capacity = 8, Name = name });
                Console.WriteLine($"created {(name is null ? "anonymous" : "named")} {channel.Reader.Doorbell}");
            }
            catch (Exception e)
            {
                Console.WriteLine($"refused {(name is null ? "anonymous" : "named")} {e.GetType().Name}: {e.Message}");
            }
        }

        return 0;
    }
}
