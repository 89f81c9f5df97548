using System.Diagnostics.Metrics;
using System.Numerics;
using UintrIpc.Memory;
using UintrIpc.Signaling;

namespace UintrIpc.Channels;

/// <summary>
/// The shape of a channel, fixed when it is created (ring size, writers, doorbell, name,
/// checksums), and how the endpoints of this process wait (<see cref="SpinBudget"/>,
/// <see cref="YieldBudget"/>, <see cref="MaxParkTime"/>, <see cref="PeerTimeout"/>) and report
/// metrics (<see cref="MeterFactory"/>). Every property is validated when it is set.
/// </summary>
/// <remarks>
/// The shape belongs to the creator: it is stored in the region. A process that opens, attaches
/// or receives an existing channel with options uses only their wait and metrics settings; the
/// shape settings are ignored and the channel follows its creator (its <c>Capacity</c>,
/// <c>MultipleWriters</c>, <c>Doorbell</c> and so on say what it is). So one options object can
/// serve both sides.
/// </remarks>
public sealed record IpcChannelOptions
{
    /// <summary>The largest slot capacity.</summary>
    public const int MaxCapacity = 1 << 24;

    private readonly int _capacity = 1024;
    private readonly int _bufferSize = 64 * 1024;
    private readonly int _maxMessageLength;
    private readonly DoorbellKind? _doorbell;
    private readonly ChannelWaitOptions _wait = ChannelWaitOptions.Default;
    private readonly string? _name;

    /// <summary>
    /// Channels of <c>T</c> (<see cref="IpcChannel{T}"/>): elements the ring holds, a power of two
    /// from 2 to <see cref="MaxCapacity"/>. Default 1024.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Not a power of two in range.</exception>
    public int Capacity
    {
        get => _capacity;
        init
        {
            if (value < 2 || value > MaxCapacity || !BitOperations.IsPow2(value))
            {
                throw new ArgumentOutOfRangeException(nameof(Capacity), value, $"The capacity must be a power of two from 2 to {MaxCapacity}.");
            }

            _capacity = value;
        }
    }

    /// <summary>
    /// Message channels (<see cref="IpcMessageChannel"/>): bytes of the ring's data area, a power
    /// of two from 64 to 2^30. Each message takes 8 + its length bytes (12 with <see cref="Checksums"/>), rounded up to 8. Default 64 KiB.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Not a power of two in range.</exception>
    public int BufferSize
    {
        get => _bufferSize;
        init
        {
            if (value < 64 || value > 1 << 30 || !BitOperations.IsPow2(value))
            {
                throw new ArgumentOutOfRangeException(nameof(BufferSize), value, "The buffer size must be a power of two from 64 to 2^30 bytes.");
            }

            _bufferSize = value;
        }
    }

    /// <summary>
    /// Message channels: the longest payload, 1 to <see cref="BufferSize"/> / 8 bytes; 0 (the
    /// default) means <see cref="BufferSize"/> / 8. Checked against <see cref="BufferSize"/> when
    /// the channel is created. With <see cref="Checksums"/> each record also holds the 4-byte
    /// checksum: the limit and the default are then <see cref="BufferSize"/> / 8 - 4.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Negative.</exception>
    public int MaxMessageLength
    {
        get => _maxMessageLength;
        init
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value, nameof(MaxMessageLength));
            _maxMessageLength = value;
        }
    }

    /// <summary>
    /// Whether several writers (threads or processes) may write at once: an MPSC ring, one
    /// atomic claim per write. False (the default) is an SPSC ring: one writing thread at a time.
    /// </summary>
    public bool MultipleWriters { get; init; }

    /// <summary>
    /// How a sleeping consumer is woken. Null (the default) means <see cref="IpcChannel.DefaultDoorbell"/>
    /// (futex), decided when the channel is created; user interrupts are an explicit choice.
    /// An explicit kind is checked when the channel is created: one this machine cannot ring
    /// (<see cref="IpcChannel.IsDoorbellAvailable"/>, for example user interrupts without CPU and
    /// kernel support) makes creation throw a <see cref="PlatformNotSupportedException"/> that says why
    /// (a self-test that merely ran out of time on a busy machine refuses nothing).
    /// Eventfd, signal and uintr doorbells belong to the reader: a writer in the reader's process
    /// finds it through the channel object, a writer in another process receives it with the
    /// channel (<see cref="IpcChannel.ReceiveChannel{T}"/>).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Not a defined <see cref="DoorbellKind"/>.</exception>
    public DoorbellKind? Doorbell
    {
        get => _doorbell;
        init
        {
            if (value is { } kind && !Enum.IsDefined(kind))
            {
                throw new ArgumentOutOfRangeException(nameof(Doorbell), value, "Unknown doorbell kind.");
            }

            _doorbell = value;
        }
    }

    /// <summary>
    /// The channel's name: null (the default) for an anonymous memfd region, shared by handing
    /// its descriptor over (<see cref="IpcChannel.SendChannel{T}"/>, or
    /// inheritance); otherwise /dev/shm/<c>Name</c> (mode 0600, failing if it exists), which
    /// other processes open with <see cref="IpcChannel.OpenNamed{T}"/>. It is unlinked when the
    /// creating channel object and its reader and writer are disposed. A named region's pages are
    /// allocated in /dev/shm when it is created (its whole size at once, so that a full /dev/shm is
    /// an ENOSPC there and not a SIGBUS later); a memfd region's as they are first used.
    /// </summary>
    /// <exception cref="ArgumentException">Not a file name under /dev/shm: empty, more than 255 bytes of UTF-8, '.', '..', or holding '/' or NUL.</exception>
    public string? Name
    {
        get => _name;
        init
        {
            if (value is not null)
            {
                SharedRegion.ThrowIfInvalidName(value, nameof(Name));
            }

            _name = value;
        }
    }

    /// <summary>
    /// Whether every message carries a CRC-32C of its content, computed by the writer when it
    /// publishes and verified by the reader before it hands the message over. False (the default)
    /// costs nothing. A mismatch throws <see cref="RingCorruptedException"/> naming the
    /// message checksum and its position; that message is consumed and the next one is read
    /// normally. It detects corruption (a stray write, a bug in a peer), not forgery: a writer
    /// that can write the ring can compute a valid checksum. Processes that open the channel
    /// follow the creator's choice. Each slot of a channel of <c>T</c> grows by 4 bytes (rounded
    /// to 8); each message by 4 bytes, which the ring's longest message also holds.
    /// Layout: interop/include/uintripc.h, section 4a.
    /// </summary>
    public bool Checksums { get; init; }

    /// <summary>
    /// How long an idle reader (or a writer facing a full ring) spins before it yields. Zero or
    /// more; default 10 µs. Budgets are time, not iterations: a kernel wake-up costs tens of
    /// microseconds, so a few microseconds of spinning catch the next message of a busy stream
    /// without one. Zero budgets park at once. Local to this process (not stored in the region).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Negative.</exception>
    public TimeSpan SpinBudget
    {
        get => _wait.SpinBudget;
        init => _wait = _wait with { SpinBudget = value };
    }

    /// <summary>How long it then yields the CPU before parking in the doorbell (a writer: before sleeping 1 ms at a time). Zero or more; default 40 µs.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Negative.</exception>
    public TimeSpan YieldBudget
    {
        get => _wait.YieldBudget;
        init => _wait = _wait with { YieldBudget = value };
    }

    /// <summary>
    /// The longest single park in the doorbell, above 0 and at most 1 minute; default 100 ms. A
    /// parked reader wakes at least this often to re-check its ring, so a lost wake-up (which the
    /// protocol rules out; this is the safety net) costs at most this much latency.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Zero, negative or above 1 minute.</exception>
    public TimeSpan MaxParkTime
    {
        get => _wait.MaxParkTime;
        init => _wait = _wait with { MaxParkTime = value };
    }

    /// <summary>
    /// How long a reader's heartbeat may stand still before a writer waiting for room counts the
    /// reader as gone (<see cref="PeerGoneException"/>), measured on the writer's clock from the
    /// last change it saw. The heartbeat moves every 100 ms while the reader object lives. From
    /// 1 s to 1 minute; default 5 s. Not for a reader process known by its pidfd (bootstrap), which is
    /// seen to exit at once, nor for a named channel's reader while it holds its reader role lock:
    /// while those live a write waits for them until the write's own timeout, whatever their
    /// heartbeat does.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Below 1 s or above 1 minute.</exception>
    public TimeSpan PeerTimeout
    {
        get => _wait.PeerTimeout;
        init => _wait = _wait with { PeerTimeout = value };
    }

    /// <summary>
    /// Where this channel object reports its metrics: the meter named "UintrIpc" that this factory
    /// creates (for example the <see cref="IMeterFactory"/> of a dependency-injection container),
    /// or, when null (the default), the meter the process shares. Either way nothing is measured
    /// on the data path.
    /// </summary>
    public IMeterFactory? MeterFactory
    {
        get => _wait.MeterFactory;
        init => _wait = _wait with { MeterFactory = value };
    }

    /// <summary>The wait settings above as one value (what the endpoints keep).</summary>
    internal ChannelWaitOptions Wait
    {
        get => _wait;
        init => _wait = value ?? throw new ArgumentNullException(nameof(Wait));
    }
}
