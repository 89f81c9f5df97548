using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;
using UintrIpc.Memory;
using UintrIpc.Rings;
using UintrIpc.Signaling;

namespace UintrIpc.Channels;

/// <summary>
/// A one-way channel of fixed-size <typeparamref name="T"/> elements between processes: a
/// lock-free slot ring and a wake-up protocol in one shared region. Create it in one process,
/// attach to it in the others, then create one <see cref="IpcConsumer{T}"/> and one or more
/// <see cref="IpcProducer{T}"/>s.
/// </summary>
/// <typeparam name="T">An unmanaged struct with the same layout in every process (no references or pointers).</typeparam>
/// <remarks>
/// <para>Region layout: the slot ring (SPSC or MPSC, tag 0) and a wait block (tag 0), region kind
/// "UCHS". The creator stores the doorbell kind in the wait block; producers use it to pick the
/// matching sender. Completion is the region header's state word (READY -> CLOSED).</para>
/// <para>Lifetime: the channel object and each endpoint hold a reference to the region; it is
/// unmapped when all of them are disposed, and a named region created here is then unlinked.</para>
/// </remarks>
/// <example>
/// <code>
/// using var channel = IpcChannel&lt;long&gt;.Create(new ChannelOptions { Capacity = 1024 });
/// using var consumer = channel.CreateConsumer();
/// using var producer = channel.CreateProducer(consumer.DoorbellFd);
/// producer.TryWrite(42);
/// long value = consumer.Read(TimeSpan.FromSeconds(1));
/// </code>
/// </example>
[DebuggerDisplay("{DebuggerDisplay,nq}")]
public sealed class IpcChannel<T> : IDisposable where T : unmanaged
{
    private readonly ChannelCore _core;
    private int _disposed;

    private IpcChannel(ChannelCore core)
    {
        unsafe
        {
            if (core.Geometry.ElementSize != sizeof(T))
            {
                core.Release();
                throw new RegionFormatException("channel element size", $"{sizeof(T)} (sizeof({typeof(T).Name}))", core.Geometry.ElementSize.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    "Both sides must use the same unmanaged element type.");
            }
        }

        _core = core;
    }

    /// <summary>The shared region (pass <see cref="SharedRegion.FileHandle"/> to other processes, or use <see cref="ChannelBootstrap"/>).</summary>
    public SharedRegion Region => _core.Region;

    /// <summary>The region's name under /dev/shm, or null for a memfd channel.</summary>
    public string? Name => _core.Region.Name;

    /// <summary>Elements the ring holds.</summary>
    public int Capacity => (int)_core.Geometry.Capacity;

    /// <summary>Whether several producers may write at once (an MPSC ring).</summary>
    public bool MultipleProducers => _core.MultipleProducers;

    /// <summary>The doorbell the consumer sleeps in (chosen when the channel was created).</summary>
    public DoorbellKind Doorbell => _core.Doorbell;

    /// <summary>How endpoints created from this object wait.</summary>
    public ChannelWaitOptions WaitOptions => _core.Wait;

    /// <summary>Whether the channel was completed (elements may still wait to be read).</summary>
    public bool IsCompleted => _core.IsCompleted;

    private string DebuggerDisplay => $"IpcChannel<{typeof(T).Name}> {(MultipleProducers ? "MPSC" : "SPSC")} {Doorbell} {Name ?? "memfd"}{(IsCompleted ? " completed" : "")}";

    /// <summary>Creates a channel in an anonymous memfd region (share it by passing <see cref="SharedRegion.FileHandle"/>).</summary>
    /// <param name="options">The shape; null for the defaults (1024 slots, one producer, the best doorbell).</param>
    /// <exception cref="UintrIpcException">The region could not be created (errno attached).</exception>
    [SuppressMessage("Design", "CA1000:Do not declare static members on generic types", Justification = "IpcChannel<T>.Create reads naturally, as Channel.CreateBounded<T> does.")]
    public static IpcChannel<T> Create(ChannelOptions? options = null)
        => new(ChannelCore.Create(ChannelCore.SlotRegionKind, Part(options ??= new ChannelOptions()), options, name: null));

    /// <summary>Creates a channel in /dev/shm/<paramref name="name"/> (mode 0600), failing if the name exists.</summary>
    /// <exception cref="UintrIpcException">The region could not be created, e.g. EEXIST.</exception>
    [SuppressMessage("Design", "CA1000:Do not declare static members on generic types", Justification = "See Create.")]
    public static IpcChannel<T> CreateNamed(string name, ChannelOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        return new(ChannelCore.Create(ChannelCore.SlotRegionKind, Part(options ??= new ChannelOptions()), options, name));
    }

    /// <summary>Opens the channel created as /dev/shm/<paramref name="name"/>.</summary>
    /// <param name="name">The name given to <see cref="CreateNamed"/>.</param>
    /// <param name="wait">How this process's endpoints wait; null for the defaults.</param>
    /// <param name="initTimeout">How long to wait for the creator to publish the region; null for the default (5 s).</param>
    /// <exception cref="RegionFormatException">Not a slot channel, or its element size is not sizeof(<typeparamref name="T"/>) (the latter when creating an endpoint).</exception>
    [SuppressMessage("Design", "CA1000:Do not declare static members on generic types", Justification = "See Create.")]
    public static IpcChannel<T> OpenNamed(string name, ChannelWaitOptions? wait = null, TimeSpan? initTimeout = null)
        => new(ChannelCore.Attach(SharedRegion.OpenNamed(name, initTimeout), ChannelCore.SlotRegionKind, wait));

    /// <summary>
    /// Attaches to a channel from its region descriptor (received over a Unix socket or inherited).
    /// The channel keeps its own duplicate; the caller still owns <paramref name="regionFd"/>.
    /// </summary>
    /// <exception cref="RegionFormatException">Not a slot channel region.</exception>
    [SuppressMessage("Design", "CA1000:Do not declare static members on generic types", Justification = "See Create.")]
    public static IpcChannel<T> Attach(SafeHandle regionFd, ChannelWaitOptions? wait = null, TimeSpan? initTimeout = null)
        => new(ChannelCore.Attach(SharedRegion.Attach(regionFd, initTimeout), ChannelCore.SlotRegionKind, wait));

    /// <summary>
    /// Creates the channel's consumer (one at a time per channel object; one per channel across
    /// processes is the caller's rule). With a signal or uintr doorbell, create it on the thread
    /// that will read: the doorbell belongs to that thread.
    /// </summary>
    /// <exception cref="InvalidOperationException">This channel object has an open consumer.</exception>
    /// <exception cref="RegionFormatException">The ring's element size is not sizeof(<typeparamref name="T"/>).</exception>
    /// <exception cref="PlatformNotSupportedException">The uintr doorbell on a machine without user interrupts.</exception>
    public IpcConsumer<T> CreateConsumer()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        return new(_core);
    }

    /// <summary>Creates a producer.</summary>
    /// <param name="doorbellFd">
    /// The consumer's <see cref="IpcConsumer{T}.DoorbellFd"/>: required for eventfd and uintr
    /// doorbells; for the signal doorbell, required when the consumer is in another process (a
    /// pidfd naming the only process this producer may signal); ignored otherwise. The producer
    /// keeps its own copy.
    /// </param>
    /// <exception cref="ArgumentException">The doorbell needs the consumer's descriptor and none was given.</exception>
    /// <exception cref="RegionFormatException">The ring's element size is not sizeof(<typeparamref name="T"/>).</exception>
    public IpcProducer<T> CreateProducer(SafeHandle? doorbellFd = null)
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
        ? MpscRing<T>.Part(options.Capacity)
        : SpscRing<T>.Part(options.Capacity);
}
