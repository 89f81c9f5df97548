using System.Runtime.CompilerServices;
using Microsoft.Win32.SafeHandles;
using UintrIpc.Bench.Results;
using UintrIpc.Bench.Workloads.Latency;

namespace UintrIpc.Bench.Workloads.Rpc;

/// <summary>
/// The cost floor of the forwarded calls: the same system calls made directly by the harness
/// (no server, no IPC): a 4 KiB pread (RandomAccess.Read), and the file copy with FileStreams
/// (unbuffered, the same chunk size as the forwarded copy).
/// </summary>
internal static class DirectBench
{
    public static BenchResult RunRead(BenchCase c, CaseContext ctx)
    {
        using var scratch = RpcScratch.Create(ForwardBench.ReadSize * 16);
        using SafeFileHandle file = File.OpenHandle(scratch.DataPath);
        return RpcMeasure.Latency(c, ctx, new ReadTransport(file, new byte[ForwardBench.ReadSize]), server: null);
    }

    public static BenchResult RunCopy(BenchCase c, CaseContext ctx)
    {
        using var scratch = RpcScratch.Create(ctx.Options.RpcCopyBytes);
        return RpcMeasure.Copy(c, ctx, scratch, () =>
        {
            using var source = new FileStream(scratch.DataPath, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0);
            using var target = new FileStream(scratch.CopyPath, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 0);
            source.CopyTo(target, RpcMeasure.CopyChunk);
        }, server: null);
    }

    /// <summary>One pread(2) of 4 KiB at offset 0 per round trip.</summary>
    private struct ReadTransport(SafeFileHandle file, byte[] buffer) : IPingTransport
    {
        private long _value;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Send(long value) => _value = value;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public long Receive() => RandomAccess.Read(file, buffer, 0) == buffer.Length ? _value
            : throw new InvalidDataException("a 4 KiB pread came back short");
    }
}
