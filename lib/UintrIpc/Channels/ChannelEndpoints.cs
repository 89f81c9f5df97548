using System.Runtime.InteropServices;

namespace UintrIpc.Channels;

/// <summary>
/// What a channel object (<see cref="IpcChannel{T}"/>, <see cref="IpcMessageChannel"/>) owns:
/// its reference on the region, and its one reader and one writer, each created on first use.
/// A writer finds the reader's doorbell itself: the descriptor a bootstrap handed over, or the
/// reader of this object.
/// </summary>
internal sealed class ChannelEndpoints<TReader, TWriter>(
    ChannelCore core,
    Func<ChannelCore, TReader> newReader,
    Func<ChannelCore, SafeHandle?, TWriter> newWriter,
    Func<TReader, SafeHandle?> doorbellOf)
    where TReader : class, IDisposable
    where TWriter : class, IDisposable
{
    private readonly Lock _lock = new();
    private TReader? _reader;
    private TWriter? _writer;
    private bool _disposed;
    private (string Reason, Exception Cause)? _writerRefused;

    internal ChannelCore Core => core;

    /// <summary>The reader, created on first use (on the calling thread: signal and uintr doorbells bind to it).</summary>
    internal TReader Reader => !_disposed ? Volatile.Read(ref _reader) ?? CreateReader() : throw new ObjectDisposedException(typeof(TReader).Name);

    /// <summary>The writer, created on first use.</summary>
    internal TWriter Writer => !_disposed ? Volatile.Read(ref _writer) ?? CreateWriter(null) : throw new ObjectDisposedException(typeof(TWriter).Name);

    /// <summary>Whether the writer was created.</summary>
    internal bool HasWriter => Volatile.Read(ref _writer) is not null;

    /// <summary>
    /// From now on no writer can be created: each attempt throws an <see cref="InvalidOperationException"/>
    /// with <paramref name="reason"/> and <paramref name="cause"/> (a duplex whose handover failed
    /// has no doorbell of the peer's reader). A writer created before stays.
    /// </summary>
    internal void RefuseWriter(string reason, Exception cause)
    {
        lock (_lock)
        {
            _writerRefused = (reason, cause);
        }
    }

    /// <summary>Creates the writer with the reader's descriptor handed over by a bootstrap (or inherited); the writer keeps its own copy.</summary>
    /// <exception cref="InvalidOperationException">The writer exists already, or writers are refused (<see cref="RefuseWriter"/>).</exception>
    internal TWriter CreateWriter(SafeHandle? doorbellFd)
    {
        lock (_lock)
        {
            if (_writer is not null)
            {
                return doorbellFd is null ? _writer : throw new InvalidOperationException("This channel object has a writer already.");
            }

            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_writerRefused is { } refused)
            {
                throw new InvalidOperationException(refused.Reason, refused.Cause);
            }

            SafeHandle? fd = doorbellFd ?? (_reader is { } reader ? doorbellOf(reader) : null);
            TWriter writer = newWriter(core, fd);
            Volatile.Write(ref _writer, writer);
            return writer;
        }
    }

    /// <summary>Whether <see cref="Dispose"/> ran: the shared memory may be unmapped, so nothing may read it.</summary>
    internal bool IsDisposed => _disposed;

    /// <summary>Disposes the writer and the reader (if created), and releases this object's reference. Idempotent.</summary>
    /// <exception cref="InvalidOperationException">The reader's signal or uintr doorbell, disposed on another thread than its own (the rest is released).</exception>
    internal void Dispose()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
        }

        try
        {
            _writer?.Dispose();
            _reader?.Dispose();
        }
        finally
        {
            core.Close();
        }
    }

    private TReader CreateReader()
    {
        lock (_lock)
        {
            if (_reader is null)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                Volatile.Write(ref _reader, newReader(core));
            }

            return _reader;
        }
    }
}
