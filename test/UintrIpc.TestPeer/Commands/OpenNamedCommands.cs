using System.Runtime.InteropServices;
using Tmds.Linux;
using UintrIpc.Channels;
using UintrIpc.Memory;
using UintrIpc.Signaling;

namespace UintrIpc.TestPeer.Commands;

/// <summary>
/// Creators stopped inside a named create, and readers whose constructor fails after they took
/// the role (test/UintrIpc.Tests/Memory/DeadCreatorOpenTests.cs, Channels/RoleReleaseTests.cs).
/// Each waits on stdin (a line or EOF goes on; the test kills it otherwise).
/// </summary>
internal static class OpenNamedCommands
{
    /// <summary>
    /// region-create-stall &lt;name&gt; &lt;before-lock|before-publish&gt; [in-place]: creates the named
    /// region /dev/shm/name and stops inside the create (between the open of its file and its creator
    /// lock, or once the file is sized under the lock, before the header is published), prints
    /// "stalled" and waits for stdin; then finishes the create, prints "created" and waits for stdin
    /// again. The file is unnamed until the create ends, or with in-place the name is created O_EXCL
    /// first (the way kept where there is no O_TMPFILE, and earlier versions' way).
    /// </summary>
    [PeerCommand("region-create-stall")]
    public static int CreateStalled(string[] args)
    {
        string path = Path.Combine(SharedRegion.SharedMemoryDirectory, args[0]);
        Action<string> stall = p =>
        {
            if (p == path)
            {
                Console.WriteLine("stalled");
                _ = Console.ReadLine();
            }
        };
        if (args is [_, _, "in-place"])
        {
            SharedRegion.CreateInPlaceForTests = p => p == path;
        }

        if (args[1] == "before-lock")
        {
            SharedRegion.CreatedBeforeLockForTests = stall;
        }
        else
        {
            SharedRegion.SizedBeforePublishForTests = stall;
        }

        using var channel = IpcChannel.CreateBounded<long>(new IpcChannelOptions { Name = args[0], Capacity = 16, Doorbell = DoorbellKind.Futex });
        Console.WriteLine("created");
        _ = Console.ReadLine();
        return 0;
    }

    /// <summary>
    /// named-reader-fails &lt;name&gt;: opens the named slot channel (signal doorbell), installs a
    /// handler for the doorbell's signal so that the reader's constructor fails after it took the
    /// reader role, prints "failed: &lt;message&gt;" and keeps the channel object (not disposed)
    /// until stdin says so. Exit 0, or 4 if the reader did not fail.
    /// </summary>
    [PeerCommand("named-reader-fails")]
    public static unsafe int ReaderFails(string[] args)
    {
        using var channel = IpcChannel.OpenNamed<long>(args[0]);
        sigaction handler = default;
        handler.sa_handler = (void*)(delegate* unmanaged<int, void>)&Ignore;
        if (LibC.sigaction(SignalDoorbellReceiver.DefaultSignalNumber, &handler, null) != 0)
        {
            throw new InvalidOperationException($"sigaction failed: errno {Marshal.GetLastPInvokeError()}");
        }

        try
        {
            _ = channel.Reader;
            Console.WriteLine("reader created");
            return 4;
        }
        catch (InvalidOperationException e)
        {
            Console.WriteLine("failed: " + e.Message);
        }

        _ = Console.ReadLine();
        return 0;
    }

    [UnmanagedCallersOnly]
    private static void Ignore(int signal)
    {
    }
}
