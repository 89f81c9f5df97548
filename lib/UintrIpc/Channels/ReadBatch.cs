using System.Runtime.CompilerServices;
using UintrIpc.Rings;

namespace UintrIpc.Channels;

/// <summary>
/// A pull-style batch of messages read in place from an <see cref="IpcMessageReader"/>
/// (<see cref="IpcMessageReader.TryReadBatch(out ReadBatch, int)"/>): take them one by one with
/// <see cref="TryNext"/>, then release them all at once with <see cref="Complete"/> (or
/// <see cref="Dispose"/>, which a <c>using</c> calls). Nothing is released before that: a batch
/// not completed is read again by the next read of the reader.
/// </summary>
/// <remarks>
/// <para>The loop's state is the caller's (this struct, a local of the caller's frame: the JIT
/// stores its next record and count per message there, its checksum branch taking it by
/// reference), and the release is one head store for the batch; against
/// <see cref="IpcMessageReader.Read{THandler}(ref THandler, int)"/> with a stateful handler it
/// measured a little faster for two writers' 8-byte messages and level for one writer's (slower
/// before spsc8; design-notes "pull", "spsc8"). In a <c>using</c> the batch
/// is released also when the loop throws (as <see cref="IpcMessageReader.Read{THandler}(ref THandler, int)"/>
/// releases what its handler was given); the explicit form, <see cref="Complete"/> after the loop,
/// is the fastest (a local a finally reads is stored to the stack at every change).</para>
/// <para>Payload spans point into shared memory written by another process: untrusted input,
/// valid until the batch is completed (after that the bytes are zeroed and reused). Use a batch on
/// the reader's thread, and do not read from the reader (any read form) while it is open: that read
/// gets the batch's messages again and releases them, and the batch's <see cref="Complete"/> then
/// throws <see cref="InvalidOperationException"/> and releases nothing.</para>
/// </remarks>
public ref struct ReadBatch
{
    private RecordCursor _cursor;
    private readonly IpcMessageReader? _reader;
    private readonly bool _checksums;

    internal ReadBatch(IpcMessageReader reader, RecordCursor cursor, bool checksums)
    {
        _cursor = cursor;
        _reader = reader;
        _checksums = checksums;
    }

    /// <summary>Whether the batch was begun and is not completed yet (false for <c>default</c>, after <see cref="Complete"/> and when TryReadBatch found nothing).</summary>
    public readonly bool IsActive => _reader is not null;

    /// <summary>Messages taken by <see cref="TryNext"/> so far (0 once completed).</summary>
    public readonly int Count => _cursor.Count;

    /// <summary>
    /// Takes the batch's next message: true with its type and payload, false when the batch has
    /// no more (the limit reached, or no further message committed yet; a later call may find one).
    /// </summary>
    /// <param name="type">The message type (&gt;= 0).</param>
    /// <param name="payload">The message, in place in shared memory: valid until the batch is completed.</param>
    /// <exception cref="RingCorruptedException">The next record is invalid, or (checksums) its checksum does not match: that message is dropped when the batch is completed, the ones before it stay taken.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryNext(out int type, out ReadOnlySpan<byte> payload)
    {
        if (!_cursor.TryNext(out type, out payload))
        {
            return false;
        }

        if (_checksums)
        {
            payload = Verified(type, payload);
        }

        return true;
    }

    /// <summary>
    /// Releases every message taken so far (their bytes zeroed, then the reader's position
    /// published once); the batch is then inactive. Does nothing on an inactive batch (a second call).
    /// </summary>
    /// <exception cref="ObjectDisposedException">The reader was disposed (nothing released; the batch is inactive).</exception>
    /// <exception cref="InvalidOperationException">Another read of the reader released messages while the batch was open, or a handler of the reader's Read completes it (nothing released; the batch is inactive).</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public unsafe void Complete()
    {
        IpcMessageReader? reader = _reader;
        if (reader is not null)
        {
            byte* data = _cursor.Data;
            long start = _cursor.Start;
            long position = _cursor.Position;
            this = default; // inactive first: a completion that throws is reported once, and Dispose after it does nothing
            reader.CompleteBatch(data, start, position);
        }
    }

    /// <summary>
    /// <see cref="Complete"/> when the batch is active; never throws for a disposed reader (the
    /// batch is then dropped), so a <c>using</c> is always safe.
    /// </summary>
    /// <exception cref="InvalidOperationException">Another read of the reader released messages while the batch was open (nothing released).</exception>
    public void Dispose()
    {
        if (_reader is { IsDisposed: true })
        {
            this = default;
            return;
        }

        Complete();
    }

    /// <summary>The message of a checked record (its checksum stripped) once the checksum matched, or the mismatch at its position (as the reader's Read reports it).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private readonly ReadOnlySpan<byte> Verified(int type, ReadOnlySpan<byte> payload)
    {
        try
        {
            return CheckedRecordHandler<NoHandler>.Verify(type, payload);
        }
        catch (ChecksumMismatchException mismatch)
        {
            throw mismatch.AtPosition(_cursor.Position - mismatch.RecordBytes, _reader!.Region, _reader);
        }
    }

    /// <summary>Names <see cref="CheckedRecordHandler{THandler}"/>'s static check (no handler runs).</summary>
    private readonly struct NoHandler : IRecordHandler
    {
        public void Handle(int type, ReadOnlySpan<byte> payload)
        {
        }
    }
}
