using System.Diagnostics;

namespace UintrIpc.Channels;

/// <summary>
/// The consumer's heartbeat (the ring's consumer_heartbeat_ms word, uintripc.h section 4): a
/// timer stores CLOCK_MONOTONIC milliseconds every <see cref="Period"/> while the consumer
/// object lives, whether or not it reads, and <see cref="Detached"/> when it is disposed.
/// </summary>
internal sealed unsafe class ConsumerHeartbeat : IDisposable
{
    /// <summary>consumer_heartbeat_ms value of a consumer that was disposed (UIPC_HEARTBEAT_DETACHED).</summary>
    internal const long Detached = -1;

    /// <summary>How often the word moves.</summary>
    internal static readonly TimeSpan Period = TimeSpan.FromMilliseconds(100);

    private readonly ChannelCore _channel;
    private readonly long* _word;
    private readonly Timer _timer;

    internal ConsumerHeartbeat(ChannelCore channel)
    {
        _channel = channel;
        _word = channel.HeartbeatWord;
        Beat();
        _timer = new Timer(static state => ((ConsumerHeartbeat)state!).Tick(), this, Period, Period);
    }

    /// <summary>Stops the timer (waiting for a tick in flight) and marks the consumer detached.</summary>
    public void Dispose()
    {
        using (var done = new ManualResetEvent(false))
        {
            if (_timer.Dispose(done))
            {
                done.WaitOne(TimeSpan.FromSeconds(5));
            }
        }

        Volatile.Write(ref *_word, Detached); // release; the region is still ours (the consumer's reference)
    }

    private void Tick()
    {
        // A tick may race with the last release of the region: beat only under a lease.
        if (!_channel.TryAddLease())
        {
            return;
        }

        try
        {
            Beat();
        }
        finally
        {
            _channel.ReleaseLease();
        }
    }

    // Release store of CLOCK_MONOTONIC ms (Stopwatch is CLOCK_MONOTONIC on Linux); never 0 or Detached.
    private void Beat() => Volatile.Write(ref *_word, Math.Max(1, Stopwatch.GetTimestamp() / (Stopwatch.Frequency / 1000)));
}
