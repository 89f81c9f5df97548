using System.Diagnostics;
using System.Runtime.CompilerServices;
using UintrIpc.Rings;
using UintrIpc.Signaling;

namespace UintrIpc.Bench.Workloads.Latency;

/// <summary>
/// Two SPSC slot rings plus the wake-up protocol: after each publish the producer calls
/// <see cref="WaitBlock.WakeIfSleeping"/> with the consumer's doorbell; a consumer that finds
/// its ring empty spins (pause, polling the next slot) for the spin budget, then parks through
/// <see cref="WaitBlock.Park{TProbe}"/> until the doorbell rings. Spin budget 0 parks at once:
/// the consumer is then asleep whenever a message arrives.
/// </summary>
internal struct RingDoorbellTransport : IPingTransport
{
    /// <summary>Bound of one park; the loop re-checks the deadline after each.</summary>
    private static readonly TimeSpan s_parkTimeout = TimeSpan.FromMilliseconds(100);

    private readonly SlotRing<long> _tx;
    private readonly SlotRing<long> _rx;
    private readonly WaitBlock _txWait;
    private readonly DoorbellSender _txBell;
    private readonly WaitBlock _rxWait;
    private readonly DoorbellReceiver _rxBell;
    private readonly long _spinTicks;
    private readonly Deadline _deadline;
    private RingProbe _probe;

    public RingDoorbellTransport(SlotRing<long> tx, WaitBlock txWait, DoorbellSender txBell,
        SlotRing<long> rx, WaitBlock rxWait, DoorbellReceiver rxBell, TimeSpan spinBudget, Deadline deadline)
    {
        _tx = tx;
        _txWait = txWait;
        _txBell = txBell;
        _rx = rx;
        _rxWait = rxWait;
        _rxBell = rxBell;
        _spinTicks = (long)(spinBudget.TotalSeconds * Stopwatch.Frequency);
        _deadline = deadline;
        _probe = new RingProbe(rx);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Send(long value)
    {
        int polls = 0;
        while (!_tx.TryWrite(value))
        {
            Spin.Step(ref polls, _deadline, "room in the ring");
        }

        _txWait.WakeIfSleeping(_txBell);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public long Receive()
    {
        if (_rx.TryRead(out long value))
        {
            return value;
        }

        if (_spinTicks > 0)
        {
            // As the C futex-spin test: poll with pause, read the clock every 64 polls.
            long start = Stopwatch.GetTimestamp();
            for (int n = 1; ; n++)
            {
                Spin.Pause();
                if (_rx.TryRead(out value))
                {
                    return value;
                }

                if ((n & 63) == 0 && Stopwatch.GetTimestamp() - start >= _spinTicks)
                {
                    break;
                }
            }
        }

        return ParkUntilRead();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private long ParkUntilRead()
    {
        while (true)
        {
            _rxWait.Park(ref _probe, _rxBell, s_parkTimeout);
            if (_rx.TryRead(out long value))
            {
                return value;
            }

            _deadline.ThrowIfPassed("a doorbell");
        }
    }
}
