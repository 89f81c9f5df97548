using System.Runtime.InteropServices;
using UintrIpc.Memory;
using UintrIpc.Rings;

namespace UintrIpc.Channels;

/// <summary>
/// Creates and opens channels between threads or processes, as <see cref="System.Threading.Channels.Channel"/>
/// does within a process, and hands them to another process over a bootstrap connection.
/// </summary>
/// <example>
/// <code>
/// using var channel = IpcChannel.CreateBounded&lt;long&gt;(1024);
/// channel.Writer.TryWrite(42);
/// long value = channel.Reader.Read(TimeSpan.FromSeconds(1));
/// </code>
/// </example>
public static partial class IpcChannel
{
    /// <summary>Creates a channel of <paramref name="capacity"/> elements in an anonymous memfd region (one writer, the best doorbell).</summary>
    /// <param name="capacity">Elements the ring holds: a power of two from 2 to <see cref="IpcChannelOptions.MaxCapacity"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">Not a power of two in range.</exception>
    /// <exception cref="UintrIpcException">The region could not be created (errno attached).</exception>
    public static IpcChannel<T> CreateBounded<T>(int capacity)
        where T : unmanaged
        => CreateBounded<T>(new IpcChannelOptions { Capacity = capacity });

    /// <summary>Creates a channel of <typeparamref name="T"/>: memfd, or /dev/shm/<see cref="IpcChannelOptions.Name"/> when it is set.</summary>
    /// <param name="options">The shape; null for the defaults (1024 elements, one writer, the best doorbell).</param>
    /// <exception cref="PlatformNotSupportedException"><see cref="IpcChannelOptions.Doorbell"/> names a doorbell this machine cannot ring (see <see cref="IsDoorbellAvailable"/>); the message says why. Nothing is created.</exception>
    /// <exception cref="UintrIpcException">The region could not be created (errno attached, e.g. EEXIST for a name that exists; for a named channel ENOSPC when /dev/shm has no room for it, EROFS or EACCES when /dev/shm is not writable).</exception>
    public static unsafe IpcChannel<T> CreateBounded<T>(IpcChannelOptions? options = null)
        where T : unmanaged
    {
        options ??= new IpcChannelOptions();
        // With checksums each slot also holds the element's CRC-32C, in its last 4 bytes (uintripc.h 4a).
        PartSpec ring = SlotRingEngine.CreatePart(options.MultipleWriters ? PartKind.MpscSlots : PartKind.SpscSlots, options.Capacity, sizeof(T), tag: 0,
            options.Checksums ? MessageChecksum.Size : 0, ElementFingerprint<T>.Value);
        return new IpcChannel<T>(ChannelCore.Create(ChannelCore.SlotRegionKind, ring, options));
    }

    /// <summary>Creates a channel of byte messages: memfd, or /dev/shm/<see cref="IpcChannelOptions.Name"/> when it is set.</summary>
    /// <param name="options">The shape (<see cref="IpcChannelOptions.BufferSize"/>, <see cref="IpcChannelOptions.MaxMessageLength"/>, writers, doorbell); null for the defaults.</param>
    /// <exception cref="ArgumentOutOfRangeException"><see cref="IpcChannelOptions.MaxMessageLength"/> is above <see cref="IpcChannelOptions.BufferSize"/> / 8 (less 4 with <see cref="IpcChannelOptions.Checksums"/>).</exception>
    /// <exception cref="PlatformNotSupportedException"><see cref="IpcChannelOptions.Doorbell"/> names a doorbell this machine cannot ring (see <see cref="IsDoorbellAvailable"/>); the message says why. Nothing is created.</exception>
    /// <exception cref="UintrIpcException">The region could not be created (errno attached, e.g. EEXIST for a name that exists; for a named channel ENOSPC when /dev/shm has no room for it, EROFS or EACCES when /dev/shm is not writable).</exception>
    public static IpcMessageChannel CreateMessages(IpcChannelOptions? options = null)
    {
        options ??= new IpcChannelOptions();
        int ringMax = options.MaxMessageLength;
        // The ring's longest payload holds the message and, with checksums, its checksum (uintripc.h 4a).
        int checksum = options.Checksums ? MessageChecksum.Size : 0;
        int limit = (options.BufferSize / 8) - checksum;
        if (ringMax > limit)
        {
            throw new ArgumentOutOfRangeException(nameof(options), ringMax,
                $"IpcChannelOptions.MaxMessageLength is at most BufferSize / 8{(checksum != 0 ? $" - {checksum} with checksums" : "")} ({limit} for a BufferSize of {options.BufferSize}): raise BufferSize or lower MaxMessageLength.");
        }

        if (ringMax != 0)
        {
            ringMax += checksum;
        }

        PartSpec ring = RecordRingEngine.Part(options.MultipleWriters ? PartKind.MpscRecords : PartKind.SpscRecords, options.BufferSize, ringMax, tag: 0);
        return new IpcMessageChannel(ChannelCore.Create(ChannelCore.MessageRegionKind, ring, options));
    }

    /// <summary>Opens the channel of <typeparamref name="T"/> created as /dev/shm/<paramref name="name"/>.</summary>
    /// <param name="name">The <see cref="IpcChannelOptions.Name"/> it was created with.</param>
    /// <param name="options">How this process's reader and writer wait and report metrics; null for the defaults. The channel's shape comes from its creator: the shape settings of <paramref name="options"/> are ignored.</param>
    /// <param name="initTimeout">How long to wait for the creator to publish the region (where it creates the name first, without O_TMPFILE); null for the default (5 s).</param>
    /// <remarks>
    /// The name appears once the channel is whole (ENOENT before). Its creator must be running (it
    /// holds the region's creator lock): a region left by a killed creator is refused, also one it
    /// was still creating without O_TMPFILE (at once, not at the end of <paramref name="initTimeout"/>). <paramref name="name"/> is not followed if it is a symbolic
    /// link (ELOOP), as shm_open does not. A single-writer channel takes its one writer role when this object's
    /// <see cref="IpcChannel{T}.Writer"/> is created, and its reader role with its
    /// <see cref="IpcChannel{T}.Reader"/>, each held until this object is disposed or its process ends:
    /// a role another process (or channel object) holds is refused with an <see cref="InvalidOperationException"/>.
    /// </remarks>
    /// <exception cref="RegionFormatException">Not a channel of elements, its element size is not sizeof(<typeparamref name="T"/>), or its creator recorded another element type of that size (uintripc.h 2i).</exception>
    /// <exception cref="UintrIpcException">No such region (ENOENT), a symbolic link (ELOOP), it could not be mapped, or its creator is gone (also before it published the region).</exception>
    public static IpcChannel<T> OpenNamed<T>(string name, IpcChannelOptions? options = null, TimeSpan? initTimeout = null)
        where T : unmanaged
        => new(ChannelCore.Attach(SharedRegion.OpenNamed(name, initTimeout, allowOtherOwner: false, requireCreator: true), ChannelCore.SlotRegionKind, options?.Wait));

    /// <summary>Opens the message channel created as /dev/shm/<paramref name="name"/> (see <see cref="OpenNamed{T}"/>).</summary>
    /// <exception cref="RegionFormatException">Not a message channel region.</exception>
    /// <exception cref="UintrIpcException">No such region (ENOENT), a symbolic link (ELOOP), it could not be mapped, or its creator is gone (also before it published the region).</exception>
    public static IpcMessageChannel OpenNamedMessages(string name, IpcChannelOptions? options = null, TimeSpan? initTimeout = null)
        => new(ChannelCore.Attach(SharedRegion.OpenNamed(name, initTimeout, allowOtherOwner: false, requireCreator: true), ChannelCore.MessageRegionKind, options?.Wait));

    /// <summary>
    /// Attaches to a channel of <typeparamref name="T"/> from its region descriptor (inherited,
    /// or received over a Unix socket). The channel keeps its own duplicate; the caller still owns
    /// <paramref name="regionFd"/>. To hand over a whole channel, prefer <see cref="SendChannel{T}"/>
    /// and <see cref="ReceiveChannel{T}"/>, which also carry the reader's doorbell.
    /// </summary>
    /// <exception cref="RegionFormatException">Not a channel of elements, its element size is not sizeof(<typeparamref name="T"/>), or its creator recorded another element type of that size (uintripc.h 2i).</exception>
    public static IpcChannel<T> Attach<T>(SafeHandle regionFd, IpcChannelOptions? options = null, TimeSpan? initTimeout = null)
        where T : unmanaged
        => new(ChannelCore.Attach(SharedRegion.Attach(regionFd, initTimeout), ChannelCore.SlotRegionKind, options?.Wait));

    /// <summary>Attaches to a message channel from its region descriptor (see <see cref="Attach{T}"/>).</summary>
    /// <exception cref="RegionFormatException">Not a message channel region.</exception>
    public static IpcMessageChannel AttachMessages(SafeHandle regionFd, IpcChannelOptions? options = null, TimeSpan? initTimeout = null)
        => new(ChannelCore.Attach(SharedRegion.Attach(regionFd, initTimeout), ChannelCore.MessageRegionKind, options?.Wait));

    /// <summary>Attaches from inherited descriptors and creates the writer with the reader's doorbell descriptor (test peers).</summary>
    internal static IpcChannel<T> AttachWriter<T>(SafeHandle regionFd, SafeHandle? doorbellFd, IpcChannelOptions? options = null)
        where T : unmanaged
        => Initialize(Attach<T>(regionFd, options), channel => channel.CreateWriter(doorbellFd));

    /// <summary>Attaches from inherited descriptors and creates the writer with the reader's doorbell descriptor (test peers).</summary>
    internal static IpcMessageChannel AttachMessagesWriter(SafeHandle regionFd, SafeHandle? doorbellFd, IpcChannelOptions? options = null)
        => Initialize(AttachMessages(regionFd, options), channel => channel.CreateWriter(doorbellFd));

    /// <summary>Runs <paramref name="initialize"/> on a new channel object; disposes it if that throws.</summary>
    private static TChannel Initialize<TChannel>(TChannel channel, Action<TChannel> initialize)
        where TChannel : IDisposable
    {
        try
        {
            initialize(channel);
            return channel;
        }
        catch
        {
            channel.Dispose();
            throw;
        }
    }
}
