using System.Diagnostics.Metrics;
using UintrIpc.Signaling;

namespace UintrIpc.Channels;

/// <summary>
/// How the endpoints of one process wait: a consumer with nothing to read spins for
/// <see cref="SpinBudget"/>, yields for <see cref="YieldBudget"/>, then parks in the doorbell
/// for at most <see cref="MaxParkTime"/> at a time; a producer facing a full ring spins,
/// yields, then sleeps 1 ms at a time. Local to a process (not stored in the region). Users set
/// these on <see cref="IpcChannelOptions"/>, <c>RpcServerOptions</c> and <c>RpcClientOptions</c>,
/// which keep them in one of these.
/// </summary>
/// <remarks>
/// Budgets are time, not iterations. A kernel wake-up costs tens of microseconds on the
/// machines we target, so a few microseconds of spinning catch the next message of a busy
/// stream without one. Use <see cref="TimeSpan.Zero"/> budgets to park at once.
/// </remarks>
internal sealed record ChannelWaitOptions
{
    /// <summary>The longest <see cref="MaxParkTime"/>.</summary>
    public static readonly TimeSpan MaxParkTimeLimit = TimeSpan.FromMinutes(1);

    private readonly TimeSpan _spinBudget = BackoffDefaults.SpinBudget;
    private readonly TimeSpan _yieldBudget = BackoffDefaults.YieldBudget;
    private readonly TimeSpan _maxParkTime = BackoffDefaults.ParkTimeout;
    private readonly TimeSpan _peerTimeout = TimeSpan.FromSeconds(5);

    /// <summary>10 µs spin, 40 µs yield, 100 ms park (<see cref="BackoffDefaults"/>).</summary>
    public static ChannelWaitOptions Default { get; } = new();

    /// <summary>How long an idle consumer (or a producer facing a full ring) spins first. Zero or more.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Negative.</exception>
    public TimeSpan SpinBudget
    {
        get => _spinBudget;
        init => _spinBudget = NotNegative(value, nameof(SpinBudget));
    }

    /// <summary>How long it then yields the CPU before parking (or sleeping). Zero or more.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Negative.</exception>
    public TimeSpan YieldBudget
    {
        get => _yieldBudget;
        init => _yieldBudget = NotNegative(value, nameof(YieldBudget));
    }

    /// <summary>
    /// The longest single park in the doorbell, above 0 and at most <see cref="MaxParkTimeLimit"/>.
    /// A parked consumer wakes at least this often to re-check its ring, so a lost wake-up
    /// (which the protocol rules out; this is the safety net) costs at most this much latency.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Zero, negative or above the limit.</exception>
    public TimeSpan MaxParkTime
    {
        get => _maxParkTime;
        init
        {
            if (value <= TimeSpan.Zero || value > MaxParkTimeLimit)
            {
                throw new ArgumentOutOfRangeException(nameof(MaxParkTime), value, $"The park time must be above zero and at most {MaxParkTimeLimit}: every wait is bounded.");
            }

            _maxParkTime = value;
        }
    }

    /// <summary>
    /// How long a consumer's heartbeat may stand still before a producer waiting for room
    /// counts the consumer as gone (<see cref="PeerGoneException"/>), measured on the producer's
    /// clock from the last change it saw. The heartbeat moves every 100 ms while the consumer
    /// object lives. At least 1 s; default 5 s. Peers known by a pidfd (bootstrap) are seen to exit
    /// at once, without this; neither they nor a named channel's reader that holds its reader role
    /// lock (uintripc.h 1f) are taken for gone by a still heartbeat.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Below 1 s or above <see cref="MaxParkTimeLimit"/>.</exception>
    public TimeSpan PeerTimeout
    {
        get => _peerTimeout;
        init
        {
            if (value < TimeSpan.FromSeconds(1) || value > MaxParkTimeLimit)
            {
                throw new ArgumentOutOfRangeException(nameof(PeerTimeout), value, $"The peer timeout must be from 1 s to {MaxParkTimeLimit}: ten heartbeats at least, and bounded.");
            }

            _peerTimeout = value;
        }
    }

    /// <summary>
    /// Where this process's channel objects report their metrics: the meter named
    /// "UintrIpc" that this factory creates (for example the
    /// <see cref="IMeterFactory"/> of a dependency-injection container), or, when null (the
    /// default), the meter the process shares. Either way nothing is measured on the data path.
    /// </summary>
    public IMeterFactory? MeterFactory { get; init; }

    private static TimeSpan NotNegative(TimeSpan value, string name)
        => value >= TimeSpan.Zero ? value : throw new ArgumentOutOfRangeException(name, value, "A budget cannot be negative.");
}
