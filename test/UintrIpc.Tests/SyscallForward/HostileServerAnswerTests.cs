using SyscallForward.Client;
using SyscallForward.Executor;
using Tmds.Linux;
using UintrIpc.Rpc;
using UintrIpc.Tests.Bootstrap;

namespace UintrIpc.Tests.SyscallForward;

/// <summary>
/// The sample's ForwardClient facing a forwarding server whose answers break uintripc_fwd.h
/// (the RPC layer honest, the library's own server; the handlers forge each call's result and
/// output length): every method returns a value the header allows for it, or throws
/// UintrIpcException with the server's errno (results -1..-4095) or EPROTO, never a count past
/// its buffer, a read claiming bytes it did not deliver, or another exception. The expected
/// outcome is this test's own reading of the header, per opcode.
/// </summary>
public sealed class HostileServerAnswerTests : IDisposable
{
    private const int Buffer = 64;
    private static readonly long[] s_values = [0, 1, 5, Buffer - 1, Buffer, Buffer + 1, 95, 96, 97, int.MaxValue, int.MaxValue + 1L, long.MaxValue, -1, -5, -4095, -4096, int.MinValue, long.MinValue];
    private static readonly int[] s_outputs = [0, 1, 5, Buffer - 1, Buffer, 95, 96, 97, 200];

    private readonly RpcServer _server = new(new RpcServerOptions { WorkerThreads = 1 });
    private readonly string _endpoint = SocketNames.NewAbstract("fwdhostile");
    private long _value;
    private int _output;

    public HostileServerAnswerTests()
    {
        foreach (ForwardOpcode opcode in Enum.GetValues<ForwardOpcode>())
        {
            _server.Map((uint)opcode, (ref RpcRequest r) =>
            {
                int n = Math.Min(Volatile.Read(ref _output), r.Output.Length);
                r.Output[..n].Fill(0xA5);
                r.OutputLength = n;
                return Volatile.Read(ref _value);
            });
        }

        _server.Start(_endpoint);
    }

    public void Dispose() => _server.Dispose();

    [Fact]
    public void Every_method_returns_only_what_the_protocol_allows_or_throws_the_errno_or_EPROTO()
    {
        using var client = ForwardClient.Connect(_endpoint, timeout: TimeSpan.FromSeconds(30));
        int checkedCases = 0;
        foreach (long value in s_values)
        {
            foreach (int output in s_outputs)
            {
                Volatile.Write(ref _value, value);
                Volatile.Write(ref _output, output);
                int delivered = Math.Min(output, Buffer); // the RPC layer never copies past the caller's buffer
                byte[] buffer = new byte[Buffer];
                // Per opcode: the values the header allows (for reads, equal to the bytes delivered; for
                // writes of a non-empty input, not 0: the header allows 0 only for an empty input).
                Judge("nop", value, value == 0, () => { client.Nop(); return 0; });
                Judge("getpid", value, value is >= 1 and <= int.MaxValue, () => client.GetPid());
                Judge("open", value, value is >= 0 and <= int.MaxValue, () => client.Open("f", 0));
                Judge("close", value, value == 0, () => { client.Close(3); return 0; });
                Judge("read", value, value >= 0 && value <= Buffer && value == delivered, () => client.Read(3, buffer));
                Judge("pread", value, value >= 0 && value <= Buffer && value == delivered, () => client.PRead(3, buffer, 0));
                Judge("write", value, value is >= 1 and <= Buffer, () => client.Write(3, new byte[Buffer]));
                Judge("pwrite", value, value is >= 1 and <= Buffer, () => client.PWrite(3, new byte[Buffer], 0));
                Judge("lseek", value, value >= 0, () => client.Seek(3, 0, SeekOrigin.Current));
                Judge("fstat", value, value == 0 && output >= ForwardStat.Size, () => { client.Stat(3); return 0; });
                Judge("read async", value, value >= 0 && value <= Buffer && value == delivered, () => client.ReadAsync(3, buffer).AsTask().GetAwaiter().GetResult());
                Judge("write async", value, value is >= 1 and <= Buffer, () => client.WriteAsync(3, new byte[Buffer]).AsTask().GetAwaiter().GetResult());
                checkedCases += 12;
            }
        }

        Assert.Equal(s_values.Length * s_outputs.Length * 12, checkedCases);
        Assert.True(client.Rpc.IsConnected, "the RPC layer was honest: the session must survive every forged answer");
    }

    [Fact]
    public void A_stream_write_answered_with_0_bytes_ends_with_an_error_instead_of_repeating_for_ever()
    {
        using var client = ForwardClient.Connect(_endpoint, timeout: TimeSpan.FromSeconds(30));
        Volatile.Write(ref _value, 3); // the open's descriptor
        using var stream = client.OpenStream("f", FileAccess.Write);
        Volatile.Write(ref _value, 0);
        var write = Task.Run(() => stream.Write(new byte[100]));
        Assert.True(((IAsyncResult)write).AsyncWaitHandle.WaitOne(TimeSpan.FromSeconds(60)), "a write answered with 0 bytes did not end (it repeats for ever)");
        Assert.IsAssignableFrom<IOException>(write.Exception?.InnerException); // EPROTO from the client's Write (UintrIpcException is an IOException)
    }

    private static void Judge(string method, long value, bool allowed, Func<long> call)
    {
        string what = $"{method} answered {value}";
        try
        {
            long returned = call();
            Assert.True(allowed, $"{what}: returned {returned}, the protocol does not allow it");
            Assert.Equal(value, returned);
        }
        catch (UintrIpcException e) when (value is < 0 and >= -4095)
        {
            Assert.Equal((int)-value, e.Errno);
        }
        catch (UintrIpcException e)
        {
            Assert.False(allowed, $"{what}: threw {e.Message} for an allowed answer");
            Assert.Equal(LibC.EPROTO, e.Errno);
        }
    }
}
