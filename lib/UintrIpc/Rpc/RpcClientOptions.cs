using System.Diagnostics.Metrics;
using UintrIpc.Bootstrap;
using UintrIpc.Channels;
using UintrIpc.Signaling;

namespace UintrIpc.Rpc;

/// <summary>What an <see cref="RpcClient"/> asks the server for, and how it waits.</summary>
public sealed record RpcClientOptions
{
    /// <summary>Call slots to ask for (at most this many calls outstanding); 0 takes the server's default. The server may grant fewer.</summary>
    public int MaxCalls { get; init; }

    /// <summary>
    /// Arena bytes to ask for (the largest input or output of one call, and of all outstanding calls together); 0 takes the server's default.
    /// The server rounds the ask up to a multiple of 64 and grants at most its <see cref="RpcServerOptions.MaxArenaLength"/>;
    /// <see cref="RpcClient.ArenaLength"/> says what was granted.
    /// </summary>
    public long ArenaLength { get; init; }

    /// <summary>The doorbell of both directions: futex, eventfd or none; null picks futex (or eventfd where futex does not work). An explicit kind this machine cannot ring makes <see cref="RpcClient.Connect"/> throw a <see cref="PlatformNotSupportedException"/> that says why.</summary>
    public DoorbellKind? Doorbell { get; init; }

    /// <summary>Bound on connecting and the handshake (default 10 s; while no server listens yet, <see cref="RpcClient.Connect"/> retries until then).</summary>
    /// <exception cref="ArgumentOutOfRangeException">Negative, or <see cref="Timeout.InfiniteTimeSpan"/>: every wait is bounded.</exception>
    public TimeSpan ConnectTimeout
    {
        get => _connectTimeout;
        init
        {
            // Infinite used to pass here and then leave no time for the welcome: every Connect failed with a TimeoutException.
            if (value < TimeSpan.Zero)
            {
                throw new ArgumentOutOfRangeException(nameof(ConnectTimeout), value,
                    "Connecting is bounded like every wait in UintrIpc: pass a non-negative ConnectTimeout (Timeout.InfiniteTimeSpan is not one). To wait for a server that is still starting, pass a long timeout (Connect retries until then) and a CancellationToken to Connect.");
            }

            _connectTimeout = value;
        }
    }

    private readonly TimeSpan _connectTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Which servers to trust (same user by default; this matters for abstract socket names, which anyone can bind).</summary>
    public PeerPolicy? ServerPolicy { get; init; }

    /// <summary>
    /// How a waiting caller spins, yields, then sleeps for its answer: by default it spins
    /// <see cref="RpcServerOptions.DefaultSpinBudget"/> (about one round trip when client and
    /// server run on different CPUs), then yields the CPU for <see cref="RpcServerOptions.DefaultYieldBudget"/>
    /// (a server that shares its CPU runs at once instead of waiting for the spin to end), then
    /// sleeps in the doorbell, at most 20 ms at a time. A dead server is noticed at once, whatever the phase.
    /// Set through the properties below.
    /// </summary>
    internal ChannelWaitOptions Wait { get; init; } = new()
    {
        SpinBudget = RpcServerOptions.DefaultSpinBudget,
        YieldBudget = RpcServerOptions.DefaultYieldBudget,
        MaxParkTime = TimeSpan.FromMilliseconds(20),
    };

    /// <summary>How long a caller waiting for its answer spins before it yields (default <see cref="RpcServerOptions.DefaultSpinBudget"/>). Zero or more.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Negative.</exception>
    public TimeSpan SpinBudget { get => Wait.SpinBudget; init => Wait = Wait with { SpinBudget = value }; }

    /// <summary>How long it then yields the CPU before it sleeps in the doorbell (default <see cref="RpcServerOptions.DefaultYieldBudget"/>). Zero or more.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Negative.</exception>
    public TimeSpan YieldBudget { get => Wait.YieldBudget; init => Wait = Wait with { YieldBudget = value }; }

    /// <summary>The longest single sleep in the doorbell (default 20 ms), above 0 and at most 1 minute: the safety net against a lost wake-up.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Zero, negative or above 1 minute.</exception>
    public TimeSpan MaxParkTime { get => Wait.MaxParkTime; init => Wait = Wait with { MaxParkTime = value }; }

    /// <summary>Where the metrics are reported: the meter named "UintrIpc" that this factory creates, or the process's shared meter when null (the default).</summary>
    public IMeterFactory? MeterFactory { get => Wait.MeterFactory; init => Wait = Wait with { MeterFactory = value }; }

    /// <summary>The doorbell to ask for.</summary>
    /// <exception cref="NotSupportedException">A signal or uintr doorbell.</exception>
    /// <exception cref="PlatformNotSupportedException">An explicit doorbell this machine cannot ring.</exception>
    internal DoorbellKind ChosenDoorbell()
    {
        if (Doorbell is { } kind && kind is not (DoorbellKind.Futex or DoorbellKind.EventFd or DoorbellKind.None))
        {
            throw new NotSupportedException($"RPC sessions use the futex, eventfd or none doorbell, not {kind}: signal and user-interrupt doorbells belong to one thread, and any client thread may call.");
        }

        // The default is the channels' (Doorbells.Best), which only picks kinds any thread can use.
        return Doorbells.Choose(Doorbell, $"{nameof(RpcClientOptions)}.{nameof(Doorbell)}");
    }
}
