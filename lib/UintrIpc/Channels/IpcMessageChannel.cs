using System.Diagnostics;
using UintrIpc.Memory;
using UintrIpc.Signaling;

namespace UintrIpc.Channels;

/// <summary>
/// A one-way channel of variable-length byte messages (each with an int type) between threads
/// or processes: a lock-free record ring and a wake-up protocol in one shared region, read
/// through <see cref="Reader"/> and written through <see cref="Writer"/>. Create it with
/// <see cref="IpcChannel.CreateMessages"/>; another process gets it with
/// <see cref="IpcChannel.ReceiveMessageChannel"/> (or <see cref="IpcChannel.OpenNamedMessages"/>).
/// </summary>
/// <remarks>
/// Otherwise as <see cref="IpcChannel{T}"/>: one reader, one or several writers, endpoints
/// created on first use, the region released when the channel and its endpoints are disposed.
/// </remarks>
/// <example>
/// <code>
/// using var channel = IpcChannel.CreateMessages(new IpcChannelOptions { BufferSize = 1 &lt;&lt; 16 });
/// channel.Writer.TryWrite(type: 1, "hello"u8);
/// byte[] buffer = new byte[channel.MaxMessageLength];
/// if (channel.Reader.TryRead(out int type, buffer, out int length, TimeSpan.FromSeconds(1)))
/// {
///     Console.WriteLine($"type {type}: {length} bytes");
/// }
/// </code>
/// </example>
[DebuggerDisplay("{DebuggerDisplay,nq}")]
public sealed class IpcMessageChannel : IDisposable
{
    private readonly ChannelEndpoints<IpcMessageReader, IpcMessageWriter> _endpoints;

    internal IpcMessageChannel(ChannelCore core)
        => _endpoints = new(core, static c => new IpcMessageReader(c), static (c, fd) => new IpcMessageWriter(c, fd), static r => r.Core.DoorbellFd, static r => r.Core.HasRunningProducer);

    /// <summary>The reading end, created on first use (on this thread: signal and uintr doorbells belong to it).</summary>
    /// <exception cref="InvalidOperationException">(uintr) This thread cannot receive user interrupts; or a named channel's reader role is held by another process or channel object of the name (a ring has one reader).</exception>
    /// <exception cref="PlatformNotSupportedException">The uintr doorbell on a machine without user interrupts (a region made elsewhere: creation here refuses it).</exception>
    /// <exception cref="ObjectDisposedException">The channel was disposed.</exception>
    public IpcMessageReader Reader => _endpoints.Reader;

    /// <summary>The writing end, created on first use; it finds the reader's doorbell itself (see <see cref="IpcChannel{T}.Writer"/>).</summary>
    /// <exception cref="InvalidOperationException">An eventfd or uintr doorbell, and this object has no reader and received no descriptor; or the channel has one writer (no <see cref="IpcChannelOptions.MultipleWriters"/>) and was handed to a writer process that is still running, or is being handed over; or a named channel's writer role is held by another process or channel object of the name (exclusively, with <see cref="IpcChannelOptions.MultipleWriters"/>).</exception>
    /// <exception cref="PlatformNotSupportedException">The channel's doorbell cannot work on this machine (a region made elsewhere: creation here refuses such a doorbell); the message says why.</exception>
    /// <exception cref="ObjectDisposedException">The channel was disposed.</exception>
    public IpcMessageWriter Writer => _endpoints.Writer;

    /// <summary>The shared region (its <see cref="SharedRegion.FileHandle"/> can be inherited by a child process).</summary>
    internal SharedRegion Region => _endpoints.Core.Region;

    /// <summary>The region's name under /dev/shm, or null for a memfd channel.</summary>
    public string? Name => _endpoints.Core.Region.Name;

    /// <summary>Bytes of the ring's data area.</summary>
    public int BufferSize => (int)_endpoints.Core.Geometry.Capacity;

    /// <summary>The longest payload of one message.</summary>
    public int MaxMessageLength => _endpoints.Core.MaxMessageLength;

    /// <summary>Whether several writers may write at once (an MPSC ring).</summary>
    public bool MultipleWriters => _endpoints.Core.MultipleProducers;

    /// <summary>The doorbell the reader sleeps in (chosen when the channel was created).</summary>
    public DoorbellKind Doorbell => _endpoints.Core.Doorbell;

    /// <summary>Whether the channel was completed (messages may still wait to be read).</summary>
    /// <exception cref="ObjectDisposedException">The channel was disposed (its memory may be unmapped).</exception>
    public bool IsCompleted => !_endpoints.IsDisposed ? _endpoints.Core.IsCompleted : throw new ObjectDisposedException(GetType().FullName);

    internal ChannelCore Core => _endpoints.Core;

    private string DebuggerDisplay => $"IpcMessageChannel {(MultipleWriters ? "MPSC" : "SPSC")} {Doorbell} {Name ?? "memfd"}{(IsCompleted ? " completed" : "")}";

    /// <summary>Disposes the reader and the writer (if created) and releases this object's reference to the region (see <see cref="IpcChannel{T}.Dispose"/>). Idempotent.</summary>
    /// <exception cref="InvalidOperationException">Signal or uintr doorbell, called on another thread than the reader's (the rest was released).</exception>
    public void Dispose() => _endpoints.Dispose();

    /// <summary>Creates the writer with the reader's doorbell descriptor, received from the reader's process.</summary>
    internal IpcMessageWriter CreateWriter(System.Runtime.InteropServices.SafeHandle? doorbellFd) => _endpoints.CreateWriter(doorbellFd);

    /// <summary>Reserves a single-writer channel's one writer for a writer process (SendChannel), returning the reader that will watch it; <see cref="EndWriterHandover"/> after.</summary>
    /// <exception cref="InvalidOperationException">Single-writer, and <see cref="Writer"/> exists, or a writer process has it or is being handed it.</exception>
    internal IpcMessageReader BeginWriterHandover() => _endpoints.BeginWriterHandover();

    /// <summary>Ends the reservation of <see cref="BeginWriterHandover"/>.</summary>
    internal void EndWriterHandover(bool sent) => _endpoints.EndWriterHandover(sent);
}
