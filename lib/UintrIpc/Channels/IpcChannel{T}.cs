using System.Diagnostics;
using System.Threading.Channels;
using UintrIpc.Memory;
using UintrIpc.Signaling;

namespace UintrIpc.Channels;

/// <summary>
/// A one-way channel of fixed-size <typeparamref name="T"/> elements between threads or
/// processes: a lock-free ring and a wake-up protocol in one shared region, read through
/// <see cref="Reader"/> and written through <see cref="Writer"/> (as with
/// <see cref="Channel{T}"/>). Create it with <see cref="IpcChannel.CreateBounded{T}(int)"/>;
/// another process gets it with <see cref="IpcChannel.ReceiveChannel{T}"/> (or
/// <see cref="IpcChannel.OpenNamed{T}"/>).
/// </summary>
/// <typeparam name="T">An unmanaged struct with the same layout in every process (no references or pointers).</typeparam>
/// <remarks>
/// <para>One reader per channel, in all processes together; writers: one at a time, or any
/// number with <see cref="IpcChannelOptions.MultipleWriters"/>. The reader and the writer of
/// this object are created on first use; with a signal or uintr doorbell, touch
/// <see cref="Reader"/> first on the thread that will read (the doorbell belongs to it).</para>
/// <para>Lifetime: disposing the channel disposes its reader and writer; the region is unmapped
/// when they and every operation in progress are done, and a named region created here is
/// then unlinked. Layout: interop/include/uintripc.h, section 4.</para>
/// </remarks>
/// <example>
/// <code>
/// using var channel = IpcChannel.CreateBounded&lt;long&gt;(1024);
/// channel.Writer.TryWrite(42);
/// long value = channel.Reader.Read(TimeSpan.FromSeconds(1));
/// </code>
/// </example>
[DebuggerDisplay("{DebuggerDisplay,nq}")]
public sealed class IpcChannel<T> : IDisposable where T : unmanaged
{
    private readonly ChannelEndpoints<IpcChannelReader<T>, IpcChannelWriter<T>> _endpoints;

    internal IpcChannel(ChannelCore core)
    {
        unsafe
        {
            if (core.Geometry.ElementSize != sizeof(T))
            {
                core.Close();
                throw new RegionFormatException("channel element size", $"{sizeof(T)} (sizeof({typeof(T).Name}))", core.Geometry.ElementSize.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    "Both sides must use the same unmanaged element type.");
            }

            ulong own = ElementFingerprint<T>.Value;
            if (core.ElementType != 0 && core.ElementType != own)
            {
                core.Close();
                throw new RegionFormatException("channel element type", $"{typeof(T).FullName} (fingerprint 0x{own:x16})",
                    $"another element type of the same size (fingerprint 0x{core.ElementType:x16})",
                    $"The channel was created with another element type of the same size (fingerprint 0x{core.ElementType:x16}), this side uses {typeof(T).FullName}: open it with the creator's element type (the same struct, by its full name), or have the creator use {typeof(T).FullName}.");
            }
        }

        _endpoints = new(core, static c => new IpcChannelReader<T>(c), static (c, fd) => new IpcChannelWriter<T>(c, fd), static r => r.Core.DoorbellFd, static r => r.Core.HasRunningProducer);
    }

    /// <summary>The reading end, created on first use (on this thread: signal and uintr doorbells belong to it).</summary>
    /// <exception cref="InvalidOperationException">(uintr) This thread cannot receive user interrupts; or a named channel's reader role is held by another process or channel object of the name (a ring has one reader).</exception>
    /// <exception cref="PlatformNotSupportedException">The uintr doorbell on a machine without user interrupts (a region made elsewhere: creation here refuses it).</exception>
    /// <exception cref="ObjectDisposedException">The channel was disposed.</exception>
    public IpcChannelReader<T> Reader => _endpoints.Reader;

    /// <summary>
    /// The writing end, created on first use. It finds the reader's doorbell itself: futex and
    /// signal need only the region; eventfd and uintr belong to the reader, so in the reader's
    /// process create <see cref="Reader"/> first, and in another process receive the channel
    /// with <see cref="IpcChannel.ReceiveChannel{T}"/>, which creates the writer. A channel without
    /// <see cref="IpcChannelOptions.MultipleWriters"/> has one writer: this one, or the writer
    /// process it was handed to (<see cref="IpcChannel.SendChannel{T}"/>) while that runs.
    /// </summary>
    /// <exception cref="InvalidOperationException">An eventfd or uintr doorbell, and this object has no reader and received no descriptor; or the channel has one writer (no <see cref="IpcChannelOptions.MultipleWriters"/>) and was handed to a writer process that is still running, or is being handed over; or a named channel's writer role is held by another process or channel object of the name (exclusively, with <see cref="IpcChannelOptions.MultipleWriters"/>).</exception>
    /// <exception cref="PlatformNotSupportedException">The channel's doorbell cannot work on this machine (a region made elsewhere: creation here refuses such a doorbell); the message says why.</exception>
    /// <exception cref="ObjectDisposedException">The channel was disposed.</exception>
    public IpcChannelWriter<T> Writer => _endpoints.Writer;

    /// <summary>The shared region (its <see cref="SharedRegion.FileHandle"/> can be inherited by a child process).</summary>
    internal SharedRegion Region => _endpoints.Core.Region;

    /// <summary>The region's name under /dev/shm, or null for a memfd channel.</summary>
    public string? Name => _endpoints.Core.Region.Name;

    /// <summary>Elements the ring holds.</summary>
    public int Capacity => (int)_endpoints.Core.Geometry.Capacity;

    /// <summary>Whether several writers may write at once (an MPSC ring).</summary>
    public bool MultipleWriters => _endpoints.Core.MultipleProducers;

    /// <summary>The doorbell the reader sleeps in (chosen when the channel was created).</summary>
    public DoorbellKind Doorbell => _endpoints.Core.Doorbell;

    /// <summary>Whether the channel was completed (elements may still wait to be read).</summary>
    /// <exception cref="ObjectDisposedException">The channel was disposed (its memory may be unmapped).</exception>
    public bool IsCompleted => !_endpoints.IsDisposed ? _endpoints.Core.IsCompleted : throw new ObjectDisposedException(GetType().FullName);

    internal ChannelCore Core => _endpoints.Core;

    private string DebuggerDisplay => $"IpcChannel<{typeof(T).Name}> {(MultipleWriters ? "MPSC" : "SPSC")} {Doorbell} {Name ?? "memfd"}{(IsCompleted ? " completed" : "")}";

    /// <summary>
    /// Disposes the reader and the writer (if created) and releases this object's reference to
    /// the region. With a signal or uintr doorbell, call it on the reader's thread. Idempotent.
    /// Does not complete the channel: a reader elsewhere reads what the writer wrote and then gets
    /// <see cref="PeerGoneException"/> (see <see cref="IpcChannelWriter{T}.Dispose"/>); complete
    /// the writer first when the stream has ended.
    /// </summary>
    /// <exception cref="InvalidOperationException">Signal or uintr doorbell, called on another thread than the reader's (the rest was released).</exception>
    public void Dispose() => _endpoints.Dispose();

    /// <summary>Creates the writer with the reader's doorbell descriptor, received from the reader's process (bootstrap, inheritance).</summary>
    internal IpcChannelWriter<T> CreateWriter(System.Runtime.InteropServices.SafeHandle? doorbellFd) => _endpoints.CreateWriter(doorbellFd);

    /// <summary>Reserves a single-writer channel's one writer for a writer process (SendChannel), returning the reader that will watch it; <see cref="EndWriterHandover"/> after.</summary>
    /// <exception cref="InvalidOperationException">Single-writer, and <see cref="Writer"/> exists, or a writer process has it or is being handed it.</exception>
    internal IpcChannelReader<T> BeginWriterHandover() => _endpoints.BeginWriterHandover();

    /// <summary>Ends the reservation of <see cref="BeginWriterHandover"/>.</summary>
    internal void EndWriterHandover(bool sent) => _endpoints.EndWriterHandover(sent);

    /// <summary>Whether <see cref="Writer"/> was created.</summary>
    internal bool HasWriter => _endpoints.HasWriter;

    /// <summary>Refuses every later <see cref="Writer"/> with an <see cref="InvalidOperationException"/> giving <paramref name="reason"/> and <paramref name="cause"/>.</summary>
    internal void RefuseWriter(string reason, Exception cause) => _endpoints.RefuseWriter(reason, cause);
}
