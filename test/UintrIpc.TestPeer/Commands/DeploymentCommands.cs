using UintrIpc;
using UintrIpc.Channels;

namespace UintrIpc.TestPeer.Commands;

/// <summary>Commands run from a copy of the peer's folder that lacks a file a deployment needs.</summary>
internal static class DeploymentCommands
{
    /// <summary>
    /// Prints the default doorbell, then creates a channel with it (anonymous, then named
    /// args[0]), then anonymous ones with futex and eventfd chosen explicitly, and prints the
    /// doorbell each got (after a write and a read) or the exception it threw. Exits 0 either way.
    /// </summary>
    [PeerCommand("default-doorbell")]
    public static int DefaultDoorbell(string[] args)
    {
        Console.WriteLine($"default {IpcChannel.DefaultDoorbell}");
        foreach (var (label, name, doorbell) in new (string, string?, DoorbellKind?)[]
        {
            ("anonymous", null, null), ("named", args[0], null), ("explicit-futex", null, DoorbellKind.Futex), ("explicit-eventfd", null, DoorbellKind.EventFd),
        })
        {
            try
            {
                using var channel = IpcChannel.CreateBounded<long>(new IpcChannelOptions { Capacity = 8, Name = name, Doorbell = doorbell });
                var reader = channel.Reader;
                bool roundTrip = channel.Writer.TryWrite(7, TimeSpan.FromSeconds(1)) && reader.TryRead(out long item, TimeSpan.FromSeconds(1)) && item == 7
                    && !reader.TryRead(out _, TimeSpan.FromMilliseconds(50)); // a wait in the doorbell that times out
                Console.WriteLine($"created {label} {reader.Doorbell} round-trip {roundTrip}");
            }
            catch (Exception e)
            {
                Console.WriteLine($"refused {label} {e.GetType().Name}: {e.Message}");
            }
        }

        return 0;
    }

    /// <summary>
    /// Opens the named channel args[0] (of long, created by another process with the default
    /// doorbell) and makes its args[1] end ("writer" or "reader"), then writes 9 elements or reads
    /// one, each waiting at most 200 ms: prints "opened", then "created" and "done", or "refused"
    /// with the exception. Exits 0 either way.
    /// </summary>
    [PeerCommand("open-named-end")]
    public static int OpenNamedEnd(string[] args)
    {
        try
        {
            using var channel = IpcChannel.OpenNamed<long>(args[0]);
            Console.WriteLine("opened");
            if (args[1] == "writer")
            {
                var writer = channel.Writer;
                Console.WriteLine("created");
                for (int i = 0; i < 9; i++)
                {
                    _ = writer.TryWrite(i, TimeSpan.FromMilliseconds(200));
                }
            }
            else
            {
                var reader = channel.Reader;
                Console.WriteLine("created");
                _ = reader.TryRead(out _, TimeSpan.FromMilliseconds(200));
            }

            Console.WriteLine("done");
        }
        catch (Exception e)
        {
            Console.WriteLine($"refused {e.GetType().Name}: {e.Message}");
        }

        return 0;
    }
}
