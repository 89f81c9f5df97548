using System.Runtime.InteropServices;

namespace UintrIpc.Channels;

/// <summary>
/// What a channel object (<see cref="IpcChannel{T}"/>, <see cref="IpcMessageChannel"/>) owns:
/// its reference on the region, and its one reader and one writer, each created on first use.
/// A writer finds the reader's doorbell itself: the descriptor a bootstrap handed over, or the
/// reader of this object.
/// </summary>
/// <remarks>
/// A single-writer ring written from two places breaks (each writer keeps its own tail: design-notes
/// user38, handover), so without MultipleWriters the one writer is either this object's
/// <see cref="Writer"/> or one writer process at a time, never both: <see cref="BeginWriterHandover"/>
/// and <see cref="CreateWriter"/> decide under <c>_lock</c>, and a handover stays reserved from
/// its check until its writer process is watched (<paramref name="writerProcessRunning"/> then says so).
/// </remarks>
internal sealed class ChannelEndpoints<TReader, TWriter>(
    ChannelCore core,
    Func<ChannelCore, TReader> newReader,
    Func<ChannelCore, SafeHandle?, TWriter> newWriter,
    Func<TReader, SafeHandle?> doorbellOf,
    Func<TReader, bool> writerProcessRunning)
    where TReader : class, IDisposable
    where TWriter : class, IDisposable
{
    private readonly Lock _lock = new();
    private TReader? _reader;
    private TWriter? _writer;
    private bool _disposed;
    private bool _handingOver; // under _lock: a single-writer handover between its check and its watch
    private bool _handoverTookRole; // under _lock: that handover took the named channel's writer role (given back if its send fails)
    private (string Reason, Exception Cause)? _writerRefused;

    internal ChannelCore Core => core;

    /// <summary>What to do instead, for the refusals of a second writer.</summary>
    private string OneWriterAdvice => core.IsDuplex
        ? "Each direction of a duplex has one writer: create one duplex per peer."
        : "Create it with IpcChannelOptions.MultipleWriters = true to write from several processes, or create one channel per writer.";

    /// <summary>The refusal of a single-writer named channel's writer, or of its handover, while another description holds the writer role.</summary>
    private string WriterRoleHeldElsewhere =>
        "This named channel has one writer (MultipleWriters = false) and another process (or another channel object of this name) holds its writer role: a second writer would corrupt its ring. "
        + OneWriterAdvice + " The role is free once that writer's channel object is disposed or its process has exited.";

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

    /// <summary>
    /// Reserves the single writer of this channel for a writer process: call it before the send
    /// (it creates the reader on this thread if needed) and <see cref="EndWriterHandover"/> once the
    /// send failed or its writer process is watched by the reader. Several writers: nothing to reserve.
    /// </summary>
    /// <returns>The reader, which watches the writer process.</returns>
    /// <exception cref="InvalidOperationException">Single-writer, and this object's writer exists, another thread is handing the channel over, or a writer process it went to is running.</exception>
    internal TReader BeginWriterHandover()
    {
        TReader reader = Reader;
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (core.MultipleProducers)
            {
                return reader;
            }

            if (_writer is not null)
            {
                throw new InvalidOperationException(
                    "This channel has one writer (MultipleWriters = false) and its Writer was created in this process: a writer process as well would corrupt its ring. " + OneWriterAdvice);
            }

            if (_handingOver || writerProcessRunning(reader))
            {
                throw new InvalidOperationException(
                    "This channel has one writer (MultipleWriters = false) and was handed to a writer process that is still running (or another thread is handing it over): a second writer would corrupt its ring. " + OneWriterAdvice);
            }

            // The receiver of a named channel shares this object's open file description and takes
            // no lock of its own (uintripc.h 1f): this object takes the writer role for it, so that
            // a process opening the name is refused, and the role a writer of such a process holds
            // refuses the handover.
            bool heldBefore = core.HoldsWriterRole;
            if (!core.TryTakeWriterRole())
            {
                throw new InvalidOperationException(WriterRoleHeldElsewhere);
            }

            _handoverTookRole = !heldBefore && core.HoldsWriterRole;
            _handingOver = true;
            return reader;
        }
    }

    /// <summary>
    /// Ends the reservation of <see cref="BeginWriterHandover"/>: the writer process is watched now
    /// (<paramref name="sent"/>), or the send failed, and the writer role the handover took for a
    /// receiver that never got the channel goes back (it was held until this object was disposed:
    /// another channel object of the name was refused its writer, and the reader saw a writer).
    /// </summary>
    internal void EndWriterHandover(bool sent)
    {
        lock (_lock)
        {
            _handingOver = false;
            if (!sent && _handoverTookRole)
            {
                core.ReleaseWriterRole();
            }

            _handoverTookRole = false;
        }
    }

    /// <summary>Creates the writer with the reader's descriptor handed over by a bootstrap (or inherited); the writer keeps its own copy.</summary>
    /// <exception cref="InvalidOperationException">The writer exists already, writers are refused (<see cref="RefuseWriter"/>), or a single-writer channel's writer process is being handed it or is running.</exception>
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

            if (!core.MultipleProducers && (_handingOver || (_reader is { } watching && writerProcessRunning(watching))))
            {
                throw new InvalidOperationException(
                    "This channel has one writer (MultipleWriters = false) and was handed to a writer process that is still running (SendChannel): a writer in this process as well would corrupt its ring. " + OneWriterAdvice);
            }

            // A named channel's other processes are known by its role locks only (uintripc.h 1f).
            bool heldBefore = core.HoldsWriterRole; // a handover's, whose writer process has ended
            if (!core.TryTakeWriterRole())
            {
                throw new InvalidOperationException(core.MultipleProducers
                    ? "Another process holds this named channel's writer role exclusively (a hostile or foreign process: UintrIpc writers of a MultipleWriters channel share it); no writer can join until it lets go."
                    : WriterRoleHeldElsewhere);
            }

            SafeHandle? fd = doorbellFd ?? (_reader is { } reader ? doorbellOf(reader) : null);
            TWriter writer;
            try
            {
                writer = newWriter(core, fd);
            }
            catch
            {
                // No writer, so no role: another channel object (or this one, later) may take it.
                if (!heldBefore)
                {
                    core.ReleaseWriterRole();
                }

                throw;
            }

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
                if (!core.TryTakeReaderRole())
                {
                    throw new InvalidOperationException(
                        "Another process (or another channel object of this name) holds this named channel's reader role: a ring has one reader, and a second would corrupt it. "
                        + "Read it in one place; the role is free once that reader's channel object is disposed or its process has exited.");
                }

                TReader reader;
                try
                {
                    reader = newReader(core);
                }
                catch
                {
                    core.ReleaseReaderRole(); // no reader, so no role (a reader is created once: the role was not ours before)
                    throw;
                }

                Volatile.Write(ref _reader, reader);
            }

            return _reader;
        }
    }
}
