using System.Diagnostics;
using System.Runtime.InteropServices;
using UintrIpc.Memory;
using UintrIpc.Rings;
using UintrIpc.Signaling;

namespace UintrIpc.Channels;

/// <summary>
/// A one-way channel of variable-length byte messages (each with an int type) between
/// processes: a lock-free record ring and a wake-up protocol in one shared region. Create it in
/// one process, attach to it in the others, then create one <see cref="IpcMessageConsumer"/>
/// and one or more <see cref="IpcMessageProducer"/>s.
/// </summary>
/// <remarks>
/// Region layout: the record ring (SPSC or MPSC, tag 0) and a wait block (tag 0), region kind
/// "UCHM"; otherwise as <see cref="IpcChannel{T}"/> (doorbell kind in the wait block, completion
/// in the region state word, region released when the channel and all endpoints are disposed).
/// </remarks>
/// <example>
/// <code>
/// using var channel = IpcMessageChannel.Create(new ChannelOptions { BufferSize = 1 &lt;&lt; 16 });
/// using var consumer = channel.CreateConsumer();
/// using var producer = channel.CreateProducer(consumer.DoorbellFd);
/// producer.TryWrite(type: 1, "hello"u8);
/// byte[] buffer = new byte[consumer.MaxMessageLength];
/// consumer.TryRead(out int type, buffer, out int length, TimeSpan.FromSeconds(1));
/// </code>
/// </example>
[DebuggerDisplay("{DebuggerDisplay,nq}")]
public sealed class IpcMessageChannel : IDisposable
{
    private readonly ChannelCore _core;
    private int _disposed;

    private IpcMessageChannel(ChannelCore core) => _core = core;

    /// <summary>The shared region (pass <see cref="SharedRegion.FileHandle"/> to other processes, or use <see cref="ChannelBootstrap"/>).</summary>
    public SharedRegion Region => _core.Region;

    /// <summary>The region's name under /dev/shm, or null for a memfd channel.</summary>
    public string? Name => _core.Region.Name;

    /// <summary>Bytes of the ring's data area.</summary>
    public int BufferSize => (int)_core.Geometry.Capacity;

    /// <summary>The longest payload of one message.</summary>
    public int MaxMessageLength => _core.Geometry.MaxMessageLength;

    /// <summary>Whether several producers may write at once (an MPSC ring).</summary>
    public bool MultipleProducers => _core.MultipleProducers;

    /// <summary>The doorbell the consumer sleeps in (chosen when the channel was created).</summary>
    public DoorbellKind Doorbell => _core.Doorbell;

    /// <summary>How endpoints created from this object wait.</summary>
    public ChannelWaitOptions WaitOptions => _core.Wait;

    /// <summary>Whether the channel was completed (messages may still wait to be read).</summary>
    public bool IsCompleted => _core.IsCompleted;

    private string DebuggerDisplay => $"IpcMessageChannel {(MultipleProducers ? "MPSC" : "SPSC")} {Doorbell} {Name ?? "memfd"}{(IsCompleted ? " completed" : "")}";

    /// <summary>Creates a message channel in an anonymous memfd region.</summary>
    /// <param name="options">The shape (<see cref="ChannelOptions.BufferSize"/>, <see cref="ChannelOptions.MaxMessageLength"/>, producers, doorbell); null for the defaults.</param>
    /// <exception cref="ArgumentOutOfRangeException"><see cref="ChannelOptions.MaxMessageLength"/> is above <see cref="ChannelOptions.BufferSize"/> / 8.</exception>
    public static IpcMessageChannel Create(ChannelOptions? options = null)
        => new(ChannelCore.Create(ChannelCore.MessageRegionKind, Part(options ??= new ChannelOptions()), options, name: null));

    /// <summary>Creates a message channel in /dev/shm/<paramref name="name"/> (mode 0600), failing if the name exists.</summary>
    public static IpcMessageChannel CreateNamed(string name, ChannelOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        return new(ChannelCore.Create(ChannelCore.MessageRegionKind, Part(options ??= new ChannelOptions()), options, name));
    }

    /// <summary>Opens the message channel created as /dev/shm/<paramref name="name"/>.</summary>
    /// <exception cref="RegionFormatException">Not a message channel region.</exception>
    public static IpcMessageChannel OpenNamed(string name, ChannelWaitOptions? wait = null, TimeSpan? initTimeout = null)
        => new(ChannelCore.Attach(SharedRegion.OpenNamed(name, initTimeout), ChannelCore.MessageRegionKind, wait));

    /// <summary>Attaches to a message channel from its region descriptor; the caller still owns <paramref name="regionFd"/>.</summary>
    /// <exception cref="RegionFormatException">Not a message channel region.</exception>
    public static IpcMessageChannel Attach(SafeHandle regionFd, ChannelWaitOptions? wait = null, TimeSpan? initTimeout = null)
        => new(ChannelCore.Attach(SharedRegion.Attach(regionFd, initTimeout), ChannelCore.MessageRegionKind, wait));

    /// <summary>Creates the channel's consumer (see <see cref="IpcChannel{T}.CreateConsumer"/>).</summary>
    /// <exception cref="InvalidOperationException">This channel object has an open consumer.</exception>
    public IpcMessageConsumer CreateConsumer()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        return new(_core);
    }

    /// <summary>Creates a producer.</summary>
    /// <param name="doorbellFd">The consumer's <see cref="IpcMessageConsumer.DoorbellFd"/>: required for eventfd and uintr doorbells, and for signal when the consumer is in another process; ignored otherwise.</param>
    /// <exception cref="ArgumentException">The doorbell needs the consumer's descriptor and none was given.</exception>
    public IpcMessageProducer CreateProducer(SafeHandle? doorbellFd = null)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        return new(_core, doorbellFd);
    }

    /// <summary>Releases this object's reference to the region; endpoints keep working until they are disposed. Idempotent.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _core.Release();
        }
    }

    private static PartSpec Part(ChannelOptions options) => options.MultipleProducers
        ? MpscRecordRing.Part(options.BufferSize, options.MaxMessageLength)
        : SpscRecordRing.Part(options.BufferSize, options.MaxMessageLength);
}
