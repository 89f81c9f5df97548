using System.Numerics;
using UintrIpc.Signaling;

namespace UintrIpc.Channels;

/// <summary>
/// The shape of a channel, fixed when it is created: ring size, producers, doorbell, and the
/// defaults for how this process waits (<see cref="Wait"/>). Every property is validated when
/// it is set.
/// </summary>
/// <remarks>
/// Processes that attach to an existing channel read the shape from the region; they only
/// choose their own <see cref="ChannelWaitOptions"/>.
/// </remarks>
public sealed record ChannelOptions
{
    /// <summary>The largest slot capacity.</summary>
    public const int MaxCapacity = 1 << 24;

    private readonly int _capacity = 1024;
    private readonly int _bufferSize = 64 * 1024;
    private readonly int _maxMessageLength;
    private readonly DoorbellKind? _doorbell;
    private readonly ChannelWaitOptions _wait = ChannelWaitOptions.Default;

    /// <summary>
    /// Slot channels (<see cref="IpcChannel{T}"/>): elements the ring holds, a power of two
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
    /// of two from 64 to 2^30. Each message takes 8 + its length bytes, rounded up to 8. Default 64 KiB.
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
    /// the channel is created.
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
    /// Whether several producers (threads or processes) may write at once: an MPSC ring, one
    /// atomic claim per write. False (the default) is an SPSC ring: one producer at a time.
    /// </summary>
    public bool MultipleProducers { get; init; }

    /// <summary>
    /// How a sleeping consumer is woken. Null (the default) means <see cref="Doorbells.Best"/>
    /// (futex), decided when the channel is created; user interrupts are an explicit choice. Futex and signal need nothing but the region;
    /// eventfd and uintr need the consumer's descriptor on the producer side
    /// (<see cref="IpcConsumer{T}.DoorbellFd"/>).
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

    /// <summary>How endpoints created from this channel object wait (spin, yield, park). Default <see cref="ChannelWaitOptions.Default"/>.</summary>
    public ChannelWaitOptions Wait
    {
        get => _wait;
        init => _wait = value ?? throw new ArgumentNullException(nameof(Wait));
    }
}
