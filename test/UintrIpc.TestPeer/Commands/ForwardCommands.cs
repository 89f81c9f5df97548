using System.Text;
using UintrIpc.Rpc;

namespace UintrIpc.TestPeer.Commands;

/// <summary>
/// Clients of samples/SyscallForward's server for test/UintrIpc.Tests/SyscallForward, speaking
/// its protocol (interop/include/uintripc_fwd.h) with a raw <see cref="RpcClient"/>.
/// </summary>
internal static class ForwardCommands
{
    // uintripc_fwd.h: opcodes, UIPC_FWD_AT_ROOT, and the Linux open flags used here.
    private const uint OpenAt = 2, Read = 4, Write = 5;
    private const long AtRoot = -100, ReadOnly = 0, WriteOnly = 1;

    /// <summary>
    /// fwd-open-fifo &lt;endpoint&gt; &lt;fifo path&gt;: opens the FIFO read-only without O_NONBLOCK
    /// (nobody writes it), then write-only, passes "x" through it and exits without closing
    /// either end. Prints "read end N", "write end N", "fifo ok"; "open timed out" and exit 3 when
    /// the first open has no answer within 5 s. Then, with "then-read-empty", a read of the empty
    /// FIFO that waits ("read waits") and an exit with the call in flight; with
    /// "then-read-and-stay" the same read, and the process stays alive until killed.
    /// </summary>
    [PeerCommand("fwd-open-fifo")]
    public static int OpenFifo(string[] args)
    {
        var timeout = TimeSpan.FromSeconds(5);
        using var client = RpcClient.Connect(args[0]);
        byte[] path = Encoding.UTF8.GetBytes(args[1]);
        long readEnd;
        try
        {
            readEnd = client.Call(OpenAt, new RpcArgs(AtRoot, ReadOnly, 0), path, default, timeout).Value;
        }
        catch (TimeoutException)
        {
            Console.WriteLine("open timed out");
            return 3;
        }

        Console.WriteLine($"read end {readEnd}");
        long writeEnd = client.Call(OpenAt, new RpcArgs(AtRoot, WriteOnly, 0), path, default, timeout).Value;
        Console.WriteLine($"write end {writeEnd}");
        if (readEnd < 0 || writeEnd < 0 || client.Call(Write, new RpcArgs(writeEnd), "x"u8, default, timeout).Value != 1)
        {
            return 1;
        }

        Span<byte> buffer = stackalloc byte[8];
        RpcResult read = client.Call(Read, new RpcArgs(readEnd), default, buffer, timeout);
        if (read.Value != 1 || buffer[0] != (byte)'x')
        {
            Console.WriteLine($"read {read.Value}");
            return 1;
        }

        Console.WriteLine("fifo ok");
        if (args.Length > 2 && args[2] is "then-read-empty" or "then-read-and-stay")
        {
            // The FIFO is empty and has a writer (our own write end): a blocking read waits for data
            // that never comes. Exit with the call still in flight at the server (review22).
            try
            {
                read = client.Call(Read, new RpcArgs(readEnd), default, buffer, TimeSpan.FromSeconds(2));
                Console.WriteLine($"read {read.Value}");
                return 1;
            }
            catch (TimeoutException)
            {
                Console.WriteLine("read waits");
                if (args[2] == "then-read-and-stay")
                {
                    Thread.Sleep(Timeout.Infinite); // alive, the call in flight, until the test kills us
                }

                Environment.Exit(0); // no Dispose: the RPC client would wait for the answer of the call in flight
            }
        }

        return 0;
    }
}
