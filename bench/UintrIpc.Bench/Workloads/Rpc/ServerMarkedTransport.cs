using System.Runtime.CompilerServices;
using UintrIpc.Bench.Workloads.Latency;

namespace UintrIpc.Bench.Workloads.Rpc;

/// <summary>
/// A ping-pong transport whose "echoer" is a server the harness does not control: it reads the
/// server's CPU clock when the pinger sends the mark, so the server's CPU time covers the
/// measured part only (as an echoer's own report would).
/// </summary>
internal struct ServerMarkedTransport<T>(T inner, ServerProcess? server) : IPingTransport
    where T : struct, IPingTransport
{
    private T _inner = inner;

    /// <summary>The server's CPU time when measurement started.</summary>
    public long ServerCpuAtMark { get; private set; }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Send(long value)
    {
        if (value == PingPong.Mark && server is not null)
        {
            ServerCpuAtMark = server.CpuNanoseconds;
        }

        _inner.Send(value);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public long Receive() => _inner.Receive();
}
