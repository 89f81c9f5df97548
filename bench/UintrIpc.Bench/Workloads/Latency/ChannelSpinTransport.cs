using System.Runtime.CompilerServices;
using UintrIpc.Channels;

namespace UintrIpc.Bench.Workloads.Latency;

/// <summary>
/// One side of a channel-level round trip: <see cref="IpcChannelWriter{T}.TryWrite(T)"/> (which
/// checks whether the reader sleeps after each publish and rings its doorbell only then) and
/// <see cref="IpcChannelReader{T}.TryRead(out T)"/> polled in a loop, what a latency-sensitive
/// user writes: the blocking read's spin phase polls the same way but adds a clock read per
/// round of polls and the decision to park; a reader that never parks needs neither.
/// </summary>
internal readonly struct ChannelSpinTransport : IPingTransport
{
    private readonly IpcChannelWriter<long> _tx;
    private readonly IpcChannelReader<long> _rx;
    private readonly Deadline _deadline;

    public ChannelSpinTransport(IpcChannelWriter<long> tx, IpcChannelReader<long> rx, Deadline deadline)
    {
        _tx = tx;
        _rx = rx;
        _deadline = deadline;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Send(long value)
    {
        int polls = 0;
        while (!_tx.TryWrite(value))
        {
            Spin.Step(ref polls, _deadline, "room in the channel");
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public long Receive() => Poll(_rx, _deadline);

    /// <summary>The receive spin out of line, for the reason <see cref="RingSpinTransport"/> gives.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static long Poll(IpcChannelReader<long> rx, in Deadline deadline)
    {
        int polls = 0;
        long value;
        while (!rx.TryRead(out value))
        {
            Spin.Step(ref polls, deadline, "an element in the channel");
        }

        return value;
    }

    public long ReceiveIdle()
    {
        long value;
        while (!_rx.TryRead(out value))
        {
            Spin.Idle(_deadline, "an element in the channel after a hold");
        }

        return value;
    }
}
