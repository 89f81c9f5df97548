using System.Runtime.CompilerServices;
using UintrIpc.Rings;

namespace UintrIpc.Bench.Workloads.Latency;

/// <summary>
/// Two SPSC slot rings of 8-byte elements (one per direction), both consumers spinning on
/// <see cref="SlotRing{T}.TryRead(out T)"/>, which polls the sequence of the slot it reads
/// next: the library's spinning round trip (c-slotring-pingpong in C).
/// </summary>
internal readonly struct RingSpinTransport : IPingTransport
{
    private readonly SlotRing<long> _tx;
    private readonly SlotRing<long> _rx;
    private readonly Deadline _deadline;

    public RingSpinTransport(SlotRing<long> tx, SlotRing<long> rx, Deadline deadline)
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
            Spin.Step(ref polls, _deadline, "room in the ring");
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public long Receive() => Poll(_rx, _deadline);

    /// <summary>
    /// The receive spin out of line, as the C baseline's <c>slot_recv</c> loop is its own small
    /// loop: inlined into the pinger's and echoer's loops, their other live values pushed the
    /// poll counter and the ring onto the frame (a load and a store per empty poll, the ring
    /// reloaded each poll); here they stay in registers. One call and return per message.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static long Poll(SlotRing<long> rx, in Deadline deadline)
    {
        int polls = 0;
        long value;
        while (!rx.TryRead(out value))
        {
            Spin.Step(ref polls, deadline, "an element in the ring");
        }

        return value;
    }

    public long ReceiveIdle()
    {
        long value;
        while (!_rx.TryRead(out value))
        {
            Spin.Idle(_deadline, "an element in the ring after a hold");
        }

        return value;
    }
}
