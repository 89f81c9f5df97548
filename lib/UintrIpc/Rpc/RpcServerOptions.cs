using System.Diagnostics.Metrics;
using UintrIpc.Channels;
using UintrIpc.Signaling;

namespace UintrIpc.Rpc;

/// <summary>Limits and behaviour of an <see cref="RpcServer"/>.</summary>
public sealed record RpcServerOptions
{
    /// <summary>Call slots of a session whose client asks for none in particular (a power of two).</summary>
    public int DefaultMaxCalls { get; init; } = 256;

    /// <summary>The most call slots a client may ask for (at most <see cref="RpcLayout.MaxCalls"/>).</summary>
    public int MaxCalls { get; init; } = 1024;

    /// <summary>Arena bytes of a session whose client asks for none in particular.</summary>
    public long DefaultArenaLength { get; init; } = 1 << 20;

    /// <summary>
    /// The largest arena a client may ask for (at most <see cref="RpcLayout.MaxArena"/>; 0 = no
    /// arena). Arenas are granted in units of 64 bytes, so the
    /// limit is rounded down to one; 1 to 63 is refused (it would grant every client 0 bytes).
    /// </summary>
    public long MaxArenaLength { get; init; } = 64L << 20;

    private static readonly DoorbellKind[] s_rpcDoorbells = [DoorbellKind.Futex, DoorbellKind.EventFd, DoorbellKind.None];
    private readonly IReadOnlyList<DoorbellKind>? _doorbells;

    /// <summary>
    /// The doorbells clients may choose. Unset: those of futex, eventfd and none that this machine
    /// can ring (their self-tests, see <see cref="IpcChannel.IsDoorbellAvailable"/>). Set: each one
    /// must be ringable here, or the server is refused at creation.
    /// </summary>
    public IReadOnlyList<DoorbellKind> Doorbells
    {
        get => _doorbells ?? Array.FindAll(s_rpcDoorbells, Signaling.Doorbells.MayUse);
        init => _doorbells = value;
    }

    /// <summary>Threads of the pool that runs handlers mapped with <see cref="RpcServer.MapBlocking"/>; 0 runs them on the session thread.</summary>
    public int WorkerThreads { get; init; } = 4;

    /// <summary>The most requests a session thread takes per pass (it publishes their responses together).</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>How long a new connection may take to send its hello.</summary>
    public TimeSpan HelloTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The spin budget of RPC waits, the session thread's and a caller's (2 µs): about one round
    /// trip between CPUs. Channels spin longer (<see cref="Channels.IpcChannelOptions.SpinBudget"/>), but a
    /// request/response pair whose two sides share a CPU pays each side's spin in full on every
    /// call, since neither can answer while the other spins (README, "Syscall forwarding").
    /// </summary>
    public static readonly TimeSpan DefaultSpinBudget = TimeSpan.FromMicroseconds(2);

    /// <summary>How long an RPC wait yields the CPU after spinning, before it sleeps in the doorbell (50 µs).</summary>
    public static readonly TimeSpan DefaultYieldBudget = TimeSpan.FromMicroseconds(50);

    /// <summary>
    /// How an idle session thread spins (<see cref="DefaultSpinBudget"/>), yields (<see cref="DefaultYieldBudget"/>)
    /// and parks (at most 100 ms at a time). A client's end is noticed at once, whatever the phase.
    /// Set through the properties below.
    /// </summary>
    internal ChannelWaitOptions Wait { get; init; } = ChannelWaitOptions.Default with { SpinBudget = DefaultSpinBudget, YieldBudget = DefaultYieldBudget };

    /// <summary>How long an idle session thread spins before it yields (default <see cref="RpcServerOptions.DefaultSpinBudget"/>). Zero or more.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Negative.</exception>
    public TimeSpan SpinBudget { get => Wait.SpinBudget; init => Wait = Wait with { SpinBudget = value }; }

    /// <summary>How long it then yields the CPU before it sleeps in the doorbell (default <see cref="RpcServerOptions.DefaultYieldBudget"/>). Zero or more.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Negative.</exception>
    public TimeSpan YieldBudget { get => Wait.YieldBudget; init => Wait = Wait with { YieldBudget = value }; }

    /// <summary>The longest single sleep in the doorbell (default 100 ms), above 0 and at most 1 minute: the safety net against a lost wake-up.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Zero, negative or above 1 minute.</exception>
    public TimeSpan MaxParkTime { get => Wait.MaxParkTime; init => Wait = Wait with { MaxParkTime = value }; }

    /// <summary>Where the server and its sessions report their metrics: the meter named "UintrIpc" that this factory creates, or the process's shared meter when null (the default).</summary>
    public IMeterFactory? MeterFactory { get => Wait.MeterFactory; init => Wait = Wait with { MeterFactory = value }; }

    /// <summary>Throws when a value is out of range.</summary>
    internal void Validate()
    {
        if (DefaultMaxCalls < RpcLayout.MinCalls || MaxCalls > RpcLayout.MaxCalls || DefaultMaxCalls > MaxCalls)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxCalls), $"Call slots must satisfy {RpcLayout.MinCalls} <= DefaultMaxCalls <= MaxCalls <= {RpcLayout.MaxCalls}.");
        }

        if (DefaultArenaLength < 0 || MaxArenaLength > RpcLayout.MaxArena || DefaultArenaLength > MaxArenaLength)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxArenaLength), $"Arena sizes must satisfy 0 <= DefaultArenaLength <= MaxArenaLength <= {RpcLayout.MaxArena}.");
        }

        if (MaxArenaLength is > 0 and < RpcLayout.ArenaAlignment)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxArenaLength), MaxArenaLength, $"Arenas are granted in units of {RpcLayout.ArenaAlignment} bytes: a limit of 1 to {RpcLayout.ArenaAlignment - 1} would grant every client 0 bytes. Use 0 for no arena or at least {RpcLayout.ArenaAlignment}.");
        }

        ArgumentOutOfRangeException.ThrowIfNegative(WorkerThreads);
        ArgumentOutOfRangeException.ThrowIfLessThan(BatchSize, 1);
        if (HelloTimeout <= TimeSpan.Zero || HelloTimeout > TimeSpan.FromDays(1))
        {
            throw new ArgumentOutOfRangeException(nameof(HelloTimeout), HelloTimeout, "The hello timeout must be above zero and at most a day.");
        }

        foreach (var kind in _doorbells ?? [])
        {
            if (kind is not (DoorbellKind.Futex or DoorbellKind.EventFd or DoorbellKind.None))
            {
                throw new NotSupportedException($"RPC sessions use the futex, eventfd or none doorbell, not {kind}: signal and user-interrupt doorbells belong to one thread, and any client thread may call.");
            }

            Signaling.Doorbells.Require(kind, $"Take it out of {nameof(RpcServerOptions)}.{nameof(Doorbells)}, or leave that option unset to offer the kinds this machine can ring");
        }
    }
}
