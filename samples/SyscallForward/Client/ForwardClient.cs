using System.Runtime.InteropServices;
using System.Text;
using SyscallForward.Executor;
using UintrIpc;
using UintrIpc.Bootstrap;
using UintrIpc.Rpc;

namespace SyscallForward.Client;

/// <summary>
/// A client of the forwarding server: each method forwards one call (interop/include/uintripc_fwd.h)
/// and returns its result, or throws a <see cref="UintrIpcException"/> carrying the server's errno, or
/// EPROTO when the answer breaks the protocol (a read claiming more bytes than it delivered, a count
/// past the request, a descriptor or pid out of range): the server is not trusted.
/// <see cref="Call"/> gives the raw result instead, unchecked. Thread-safe: any number of threads may call at once.
/// Every call may also end with <see cref="TimeoutException"/> (no answer within <see cref="Timeout"/>;
/// the call may still run on the server), <see cref="RpcConnectionLostException"/> (the session ended:
/// the server exited or stopped; the call may or may not have run: connect again) or
/// <see cref="ObjectDisposedException"/> (after <see cref="Dispose"/>).
/// </summary>
public sealed class ForwardClient : IDisposable
{
    /// <summary>openat's dirfd for the server's directory (UIPC_FWD_AT_ROOT).</summary>
    public const int AtRoot = -100;

    private readonly RpcClient _rpc;

    private ForwardClient(RpcClient rpc, TimeSpan timeout)
    {
        _rpc = rpc;
        Timeout = timeout;
    }

    /// <summary>The longest one call waits for its answer.</summary>
    public TimeSpan Timeout { get; }

    /// <summary>The underlying RPC client (doorbell, statistics).</summary>
    public RpcClient Rpc => _rpc;

    /// <summary>The most bytes one read or write can carry (the session's arena).</summary>
    public int MaxTransfer => (int)Math.Min(_rpc.ArenaLength, 1 << 20);

    /// <summary>Connects to the server at <paramref name="endpoint"/>.</summary>
    public static ForwardClient Connect(string endpoint, RpcClientOptions? options = null, TimeSpan? timeout = null)
        => new(RpcClient.Connect(endpoint, options), timeout ?? TimeSpan.FromSeconds(10));

    /// <summary>Forwards any opcode (also unknown ones) and returns the raw result: a value, or -errno.</summary>
    public RpcResult Call(uint opcode, in RpcArgs args, ReadOnlySpan<byte> input = default, Span<byte> output = default)
        => _rpc.Call(opcode, args, input, output, Timeout);

    /// <summary>Does nothing on the server (a round trip).</summary>
    public void Nop() => Checked(ForwardOpcode.Nop, default, "nop", 0, 0);

    /// <summary>The server's pid.</summary>
    public int GetPid() => (int)Checked(ForwardOpcode.GetPid, default, "getpid", 1, int.MaxValue);

    /// <summary>Opens <paramref name="path"/> beneath the server's directory; returns this client's descriptor.</summary>
    public int Open(string path, int flags, int mode = 0x1A4 /* 0644 */)
    {
        ArgumentNullException.ThrowIfNull(path);
        return (int)ForwardAnswer.Check(Call(ForwardOpcode.OpenAt, new RpcArgs(AtRoot, flags, mode), Encoding.UTF8.GetBytes(path), default), $"forwarded open of {path}", 0, int.MaxValue);
    }

    /// <summary>Closes one of this client's descriptors.</summary>
    public void Close(int fd) => Checked(ForwardOpcode.Close, new RpcArgs(fd), "forwarded close", 0, 0);

    /// <summary>Reads up to <paramref name="buffer"/>'s length (at most <see cref="MaxTransfer"/>); returns the count (0 at the end).</summary>
    public int Read(int fd, Span<byte> buffer)
    {
        buffer = Clamp(buffer);
        return (int)ForwardAnswer.Check(Call(ForwardOpcode.Read, new RpcArgs(fd), default, buffer), "forwarded read", 0, buffer.Length, delivered: true);
    }

    /// <summary>Writes up to <paramref name="data"/>'s length (at most <see cref="MaxTransfer"/>); returns the count (may be short).</summary>
    public int Write(int fd, ReadOnlySpan<byte> data)
    {
        data = data[..Math.Min(data.Length, MaxTransfer)];
        return (int)ForwardAnswer.Check(Call(ForwardOpcode.Write, new RpcArgs(fd), data, default), "forwarded write", MinWritten(data.Length), data.Length);
    }

    /// <summary>pread: reads at <paramref name="offset"/>.</summary>
    public int PRead(int fd, Span<byte> buffer, long offset)
    {
        buffer = Clamp(buffer);
        return (int)ForwardAnswer.Check(Call(ForwardOpcode.PRead, new RpcArgs(fd, offset), default, buffer), "forwarded pread", 0, buffer.Length, delivered: true);
    }

    /// <summary>pwrite: writes at <paramref name="offset"/>.</summary>
    public int PWrite(int fd, ReadOnlySpan<byte> data, long offset)
    {
        data = data[..Math.Min(data.Length, MaxTransfer)];
        return (int)ForwardAnswer.Check(Call(ForwardOpcode.PWrite, new RpcArgs(fd, offset), data, default), "forwarded pwrite", MinWritten(data.Length), data.Length);
    }

    /// <summary>lseek; returns the new offset (64-bit).</summary>
    public long Seek(int fd, long offset, SeekOrigin origin)
        => Checked(ForwardOpcode.LSeek, new RpcArgs(fd, offset, (int)origin), "forwarded lseek", 0, long.MaxValue);

    /// <summary>fstat.</summary>
    public ForwardStat Stat(int fd)
    {
        Span<byte> bytes = stackalloc byte[ForwardStat.Size];
        ForwardAnswer.Check(Call(ForwardOpcode.FStat, new RpcArgs(fd), default, bytes), "forwarded fstat", 0, 0, output: ForwardStat.Size);
        return MemoryMarshal.Read<ForwardStat>(bytes);
    }

    /// <summary>Reads asynchronously (the answer is read by the RPC client's receiver thread).</summary>
    public async ValueTask<int> ReadAsync(int fd, Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        buffer = buffer[..Math.Min(buffer.Length, MaxTransfer)];
        RpcResult result = await _rpc.CallAsync((uint)ForwardOpcode.Read, new RpcArgs(fd), default, buffer, cancellationToken).ConfigureAwait(false);
        return (int)ForwardAnswer.Check(result, "forwarded read", 0, buffer.Length, delivered: true);
    }

    /// <summary>Writes asynchronously; returns the count (may be short).</summary>
    public async ValueTask<int> WriteAsync(int fd, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        data = data[..Math.Min(data.Length, MaxTransfer)];
        RpcResult result = await _rpc.CallAsync((uint)ForwardOpcode.Write, new RpcArgs(fd), data, default, cancellationToken).ConfigureAwait(false);
        return (int)ForwardAnswer.Check(result, "forwarded write", MinWritten(data.Length), data.Length);
    }

    /// <summary>Opens a forwarded file as a <see cref="Stream"/> (which closes it on Dispose).</summary>
    public ForwardedFileStream OpenStream(string path, FileAccess access, FileMode mode = FileMode.Open)
    {
        int flags = access switch { FileAccess.Read => 0, FileAccess.Write => 1, _ => 2 } | mode switch
        {
            FileMode.Create => 0x40 | 0x200,   // O_CREAT | O_TRUNC
            FileMode.CreateNew => 0x40 | 0x80, // O_CREAT | O_EXCL
            FileMode.OpenOrCreate => 0x40,
            FileMode.Truncate => 0x200,
            FileMode.Append => 0x40 | 0x400,   // O_CREAT | O_APPEND
            _ => 0,
        };
        return new ForwardedFileStream(this, Open(path, flags), access);
    }

    /// <inheritdoc />
    public void Dispose() => _rpc.Dispose();

    private RpcResult Call(ForwardOpcode opcode, in RpcArgs args, ReadOnlySpan<byte> input, Span<byte> output)
        => _rpc.Call((uint)opcode, args, input, output, Timeout);

    private long Checked(ForwardOpcode opcode, in RpcArgs args, string what, long min, long max) => ForwardAnswer.Check(Call(opcode, args, default, default), what, min, max);

    // uintripc_fwd.h: a write answers 0 only for an empty input (the server waits for room instead),
    // so 0 for a non-empty one is the server breaking the protocol (EPROTO), not a short write.
    private static long MinWritten(int length) => length == 0 ? 0 : 1;

    private Span<byte> Clamp(Span<byte> buffer) => buffer[..Math.Min(buffer.Length, MaxTransfer)];
}
