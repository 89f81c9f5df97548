using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using UintrIpc.Rings;
using UintrIpc.Signaling;

namespace UintrIpc.Channels;

// The reader end of a channel of T: its own ring object (its position stays private) and the
// shared reader core (doorbell, waits, lifetime). Reads never block; waits go through
// ConsumerCore (uintripc.h section 3); completion and the end of the channel follow section 4
// (state before the ring; the end is CLOSED and head == tail).

/// <summary>
/// The reading end of an <see cref="IpcChannel{T}"/>: a <see cref="ChannelReader{T}"/> (so
/// <c>await foreach (var item in reader.ReadAllAsync())</c> works) with blocking reads that
/// take a timeout, batch reads into a span, and in-place reads through a handler.
/// </summary>
/// <typeparam name="T">The element type of the channel.</typeparam>
/// <remarks>
/// <para>Non-blocking reads (<see cref="TryRead(out T)"/>, <see cref="TryRead(Span{T})"/>,
/// <see cref="Drain{THandler}"/>) cost no system call. Blocking reads spin briefly, then sleep
/// in the channel's doorbell, using no CPU until a writer wakes them or the timeout passes.
/// Async reads are served by one background thread per reader and allocate nothing per read
/// once warm; they need a futex, eventfd or none doorbell (signal and uintr doorbells belong
/// to the reader's thread).</para>
/// <para>Use it from one thread at a time (with signal or uintr doorbells: the thread that
/// created it, also for <see cref="Dispose"/>), and do not call <see cref="TryRead(out T)"/>
/// while an async wait is pending.</para>
/// </remarks>
[DebuggerDisplay("{DebuggerDisplay,nq}")]
public sealed class IpcChannelReader<T> : ChannelReader<T>, IDisposable where T : unmanaged
{
    /// <summary>
    /// Read through its <see cref="SlotRing{T}.Engine"/>, as the writer writes: the ring object's
    /// calls also record the mapping in <see cref="UintrIpc.Memory.MappingUse"/> (a thread-static
    /// lookup and two stores per call), which guards nothing here: the ring holds no lease and is
    /// never disposed, and Dispose must not run concurrently with a read (see the remarks).
    /// </summary>
    private readonly SlotRing<T> _ring;
    private readonly ConsumerCore<SlotChannelProbe<T>> _core;
    /// <summary>Whether elements carry checksums (uintripc.h 4a): decided once, at attach.</summary>
    private readonly bool _checksums;
    /// <summary>With checksums: bytes from an element to its checksum (the slot's last 4 bytes).</summary>
    private readonly nuint _checksumOffset;
    /// <summary>
    /// Non-zero when TryRead leaves its plain path: checksums (set at attach) or disposed (set by
    /// Dispose). One field of this object tested per read, instead of the core's disposed flag, so
    /// a reader without checksums pays no more than before them.
    /// </summary>
    private int _offPlainPath;

    internal IpcChannelReader(ChannelCore channel)
    {
        // No lease: the core's reference on the region keeps the mapping.
        _ring = new SlotRing<T>(channel.Region, channel.RingPart, lease: false, channel.SlotTrailer, GetType().FullName);
        _checksums = channel.Checksums;
        _checksumOffset = (nuint)channel.Geometry.SlotSize - RingLayout.SlotHeaderSize - MessageChecksum.Size;
        _offPlainPath = _checksums ? 1 : 0;
        _core = new ConsumerCore<SlotChannelProbe<T>>(channel, new SlotChannelProbe<T>(_ring, channel), GetType().FullName!);
    }

    internal ConsumerCore<SlotChannelProbe<T>> Core => _core;

    /// <summary>The doorbell this reader sleeps in.</summary>
    public DoorbellKind Doorbell => _core.Doorbell;

    /// <summary>Elements the ring holds.</summary>
    public int Capacity => _ring.Capacity;

    /// <inheritdoc />
    public override bool CanCount => true;

    /// <summary>Approximate number of elements waiting (from the shared positions).</summary>
    /// <exception cref="ObjectDisposedException">The reader was disposed (the memory may be unmapped).</exception>
    public override int Count => !_core.IsDisposed ? _ring.Engine.Count : throw new ObjectDisposedException(GetType().FullName);

    /// <summary>
    /// Whether the channel was completed and every element has been read: no read will ever
    /// return an element again.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The reader was disposed (the memory may be unmapped).</exception>
    public bool IsCompleted => !_core.IsDisposed ? _core.IsCompleted : throw new ObjectDisposedException(GetType().FullName);

    /// <summary>
    /// Completes when a read finds the channel completed and drained. The writers' side cannot
    /// transmit an exception: it completes successfully.
    /// </summary>
    public override Task Completion => _core.Completion;

    /// <summary>The wait block's counters (sleeps, timeouts, wake-ups seen; and the writers' sent and suppressed).</summary>
    internal WaitBlockCounters Counters => _core.Counters;

    private string DebuggerDisplay => $"IpcChannelReader<{typeof(T).Name}> {Doorbell} count={Count}/{Capacity}{(_core.Channel.IsCompleted ? " completed" : "")}";

    /// <summary>Reads the next element, or returns false when none is waiting. Never blocks.</summary>
    /// <exception cref="RingCorruptedException">The ring holds values no writer writes, or (checksums) the element's checksum does not match (that element is dropped).</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public override bool TryRead([MaybeNullWhen(false)] out T item)
    {
        if (_offPlainPath != 0)
        {
            return TryReadChecked(out item);
        }

        if (_ring.Engine.TryRead(out item))
        {
            return true;
        }

        item = default; // ChannelReader's contract (the ring leaves it unwritten)
        _core.ObserveCompletion();
        return false;
    }

    /// <summary>Reads up to <paramref name="destination"/>.Length waiting elements, in order; returns how many. Never blocks.</summary>
    /// <exception cref="RingCorruptedException">The ring holds values no writer writes, or (checksums) an element's checksum does not match (the elements before it were read; it is dropped).</exception>
    public int TryRead(Span<T> destination)
    {
        ObjectDisposedException.ThrowIf(_core.IsDisposed, this);
        if (!_checksums)
        {
            return _ring.Engine.TryRead(destination);
        }

        var fill = new SpanFillHandler<T>(destination);
        return DrainChecked(ref fill, destination.Length);
    }

    /// <summary>
    /// Hands up to <paramref name="limit"/> waiting elements to <paramref name="handler"/> in
    /// place (no copy), in order; returns how many. Never blocks. The reader's position is
    /// stored once per call (and every quarter ring in a long drain, so that writers get room
    /// back sooner), not once per element.
    /// </summary>
    /// <exception cref="RingCorruptedException">The ring holds values no writer writes, or (checksums) an element's checksum does not match (it is dropped, not handed over).</exception>
    /// <exception cref="InvalidOperationException">Called by a handler of this reader's Drain (a read from there would hand an element out twice; <see cref="TryRead(out T)"/> refuses it too).</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Drain<THandler>(ref THandler handler, int limit = int.MaxValue)
        where THandler : struct, ISlotHandler<T>, allows ref struct
    {
        ObjectDisposedException.ThrowIf(_core.IsDisposed, this);
        return _checksums ? DrainChecked(ref handler, limit) : _ring.Engine.Drain<T, THandler>(ref handler, limit);
    }

    /// <summary>
    /// Multi-writer channels: recovers from a writer that died between claiming room and
    /// publishing, which otherwise blocks every later element. When the next element has been
    /// claimed but unpublished for at least <paramref name="stalledFor"/> (measured from the first
    /// call that saw it so; call it periodically while reads time out), it is skipped and reading
    /// goes on. Only safe when that writer is really dead (e.g. its process exited): a slow
    /// writer that publishes later loses its element. Single-writer channels: returns false.
    /// </summary>
    /// <returns>True when a stuck element was skipped (it is lost).</returns>
    /// <exception cref="RingCorruptedException">The shared positions are impossible.</exception>
    public bool TryUnblock(TimeSpan stalledFor)
    {
        ObjectDisposedException.ThrowIf(_core.IsDisposed, this);
        return _ring.TryUnblock(stalledFor);
    }

    /// <summary>
    /// Waits up to <paramref name="timeout"/> until an element can be read (true), or returns
    /// false when the time passed or the channel is completed and drained (see <see cref="IsCompleted"/>).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A negative timeout (waits are always bounded).</exception>
    /// <exception cref="InvalidOperationException">Another wait of this reader is in progress, or (signal, uintr) called on another thread than the creator.</exception>
    /// <exception cref="RingCorruptedException">A writer left a value no writer writes in the ring (a broken or hostile peer), or (checksums) a message's checksum does not match (it is dropped).</exception>
    /// <exception cref="PeerGoneException">Every writer received over the bootstrap has exited without completing the channel, and the ring is drained.</exception>
    public bool WaitToRead(TimeSpan timeout)
    {
        ObjectDisposedException.ThrowIf(_core.IsDisposed, this);
        var peek = new Peek(_ring);
        return _core.ReadWithin(ref peek, timeout);
    }

    /// <summary>
    /// Reads the next element, waiting up to <paramref name="timeout"/> for one: spins briefly,
    /// then sleeps in the doorbell (no CPU) until a writer wakes it.
    /// </summary>
    /// <returns>False when the timeout passed, or the channel is completed and drained (see <see cref="IsCompleted"/>).</returns>
    /// <exception cref="ArgumentOutOfRangeException">A negative timeout (waits are always bounded).</exception>
    /// <exception cref="InvalidOperationException">Another wait of this reader is in progress, or (signal, uintr) called on another thread than the creator.</exception>
    /// <exception cref="RingCorruptedException">A writer left a value no writer writes in the ring (a broken or hostile peer), or (checksums) a message's checksum does not match (it is dropped).</exception>
    /// <exception cref="PeerGoneException">Every writer received over the bootstrap has exited without completing the channel, and the ring is drained.</exception>
    public bool TryRead(out T item, TimeSpan timeout)
    {
        WaitDeadline.Validate(timeout);
        if (TryRead(out item))
        {
            return true;
        }

        var one = new ReadOne(this);
        bool read = _core.ReadWithin(ref one, timeout);
        item = one.Item;
        return read;
    }

    /// <summary>Reads the next element, waiting up to <paramref name="timeout"/> for one.</summary>
    /// <exception cref="TimeoutException">No element arrived in time.</exception>
    /// <exception cref="ChannelClosedException">The channel is completed and drained.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A negative timeout (waits are always bounded).</exception>
    /// <exception cref="RingCorruptedException">A writer left a value no writer writes in the ring (a broken or hostile peer), or (checksums) a message's checksum does not match (it is dropped).</exception>
    /// <exception cref="PeerGoneException">Every writer received over the bootstrap has exited without completing the channel, and the ring is drained.</exception>
    public T Read(TimeSpan timeout)
    {
        if (TryRead(out T item, timeout))
        {
            return item;
        }

        throw IsCompleted
            ? new ChannelClosedException()
            : new TimeoutException($"No element arrived within {timeout.TotalMilliseconds} ms.");
    }

    /// <summary>
    /// Waits asynchronously until an element can be read (true) or the channel is completed and
    /// drained (false). Completes synchronously when an element is already waiting.
    /// </summary>
    /// <exception cref="NotSupportedException">The channel's doorbell is signal or uintr (thread-bound): use futex or eventfd for async reads.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled (nothing is consumed).</exception>
    /// <exception cref="RingCorruptedException">A writer left a value no writer writes in the ring (a broken or hostile peer), or (checksums) a message's checksum does not match (it is dropped).</exception>
    /// <exception cref="PeerGoneException">Every writer received over the bootstrap has exited without completing the channel, and the ring is drained.</exception>
    public override ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_core.IsDisposed, this);
        return _core.WaitToReadAsync(cancellationToken);
    }

    /// <summary>Reads the next element asynchronously, waiting for one if needed. Allocation-free when warm.</summary>
    /// <exception cref="ChannelClosedException">The channel is completed and drained.</exception>
    /// <exception cref="NotSupportedException">The channel's doorbell is signal or uintr (thread-bound): use futex or eventfd for async reads.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled (nothing is consumed).</exception>
    /// <exception cref="RingCorruptedException">A writer left a value no writer writes in the ring (a broken or hostile peer), or (checksums) a message's checksum does not match (it is dropped).</exception>
    /// <exception cref="PeerGoneException">Every writer received over the bootstrap has exited without completing the channel, and the ring is drained.</exception>
    public override ValueTask<T> ReadAsync(CancellationToken cancellationToken = default)
        => TryRead(out T item) ? new ValueTask<T>(item) : _core.ReadAsync<ReadAsyncAttempt, T>(new ReadAsyncAttempt(this), cancellationToken);

    /// <summary>
    /// Ends every waiting read (blocking or async: <see cref="ObjectDisposedException"/>; each
    /// holds its own lease on the region, so this is safe from any thread), then releases the
    /// doorbell and the region. A non-blocking call must not run concurrently with it. With a
    /// signal or uintr doorbell, call it on the thread that created the reader. Does not
    /// complete the channel. Idempotent.
    /// </summary>
    /// <remarks>A <see cref="Drain{THandler}"/> (or a read built on it) running on another thread is waited for (up to 5 s) first, and calls made meanwhile throw <see cref="ObjectDisposedException"/>.</remarks>
    /// <exception cref="InvalidOperationException">Signal or uintr doorbell, called on another thread; called by a handler of this reader's <see cref="Drain{THandler}"/>; or a Drain on another thread did not return within 5 s (nothing was released).</exception>
    public void Dispose()
    {
        // Drain reads the next slot and publishes its head when the handler returns, and this
        // reader's lease may be what keeps the mapping until then: refused from its handler, waited
        // for (bounded) from another thread. Throws, releasing nothing, on the wrong thread (signal, uintr).
        _core.Dispose(new ReadInProgress(() => _ring.Engine.Draining, "Drain"));
        _offPlainPath = 2; // plain: only this reader's thread reads it (see the remarks)
    }

    /// <summary>The next element, its checksum verified when the channel has checksums (out of line: the unchecked path stays as small as without).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool ReadNext(out T item) => _checksums ? ReadChecked(out item) : _ring.Engine.TryRead(out item);

    /// <summary>TryRead off its plain path: disposed, or checksums.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool TryReadChecked(out T item)
    {
        ObjectDisposedException.ThrowIf(_core.IsDisposed, this);
        if (ReadNext(out item))
        {
            return true;
        }

        item = default; // ChannelReader's contract (the ring leaves it unwritten)
        _core.ObserveCompletion();
        return false;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool ReadChecked(out T item)
    {
        var copy = new CopyOne();
        bool read = DrainChecked(ref copy, 1) == 1;
        item = copy.Item;
        return read;
    }

    /// <summary>
    /// Drains through <see cref="CheckedSlotHandler{T, THandler}"/>. A mismatch is thrown from
    /// inside the drain, so the ring counts that element as consumed; its position is the one
    /// before the head the drain committed.
    /// </summary>
    private int DrainChecked<THandler>(ref THandler handler, int limit)
        where THandler : struct, ISlotHandler<T>, allows ref struct
    {
        var check = new CheckedSlotHandler<T, THandler>(handler, _checksumOffset);
        try
        {
            return _ring.Engine.Drain<T, CheckedSlotHandler<T, THandler>>(ref check, limit);
        }
        catch (ChecksumMismatchException mismatch)
        {
            throw mismatch.AtPosition((long)_ring.Engine.ConsumerHead - 1, _ring.Region, this);
        }
        finally
        {
            handler = check.Inner;
        }
    }

    /// <summary>A blocking read's attempt: one element.</summary>
    private struct ReadOne(IpcChannelReader<T> reader) : IReadAttempt
    {
        public T Item;

        public bool TryRead() => reader.ReadNext(out Item);
    }

    /// <summary>Copies one element out of its slot.</summary>
    private struct CopyOne : ISlotHandler<T>
    {
        public T Item;

        public void Handle(in T item) => Item = item;
    }

    /// <summary>ReadAsync's attempt: this reader's TryRead and WaitToReadAsync.</summary>
    private readonly struct ReadAsyncAttempt(IpcChannelReader<T> reader) : IAsyncReadAttempt<T>
    {
        public bool TryRead(out T result) => reader.TryRead(out result);

        public ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken) => reader.WaitToReadAsync(cancellationToken);
    }

    /// <summary>WaitToRead's attempt: whether an element can be read, without reading it.</summary>
    private readonly struct Peek(SlotRing<T> ring) : IReadAttempt
    {
        public bool TryRead() => ring.Engine.CanRead;
    }
}
