using System.Diagnostics;
using System.Runtime.CompilerServices;
using UintrIpc.Memory;

namespace UintrIpc.Rings;

/// <summary>
/// A ring of variable-length messages (records) in a part of a <see cref="SharedRegion"/>,
/// seen from its consumer: what <see cref="SpscRecordRing"/> and <see cref="MpscRecordRing"/>
/// share (they differ only in how producers claim room). Accept this type where either kind will do.
/// </summary>
/// <remarks>
/// <para>Create the region with the ring's <c>Part</c> among its parts, then attach one object
/// per process (or per side). One thread at a time may consume (<see cref="Read{THandler}"/>,
/// <see cref="TryRead"/>). Nothing blocks: a full ring makes writes return false, an empty
/// one makes the reads return nothing; waiting is the job of the channels built on top.</para>
/// <para>Messages are 0 to <see cref="MaxMessageLength"/> bytes with a type &gt;= 0; each takes
/// 8 + its length bytes rounded up to 8 (plus padding when it would cross the end of the data
/// area). Everything read from shared memory is validated; a peer that breaks the ring's
/// invariants causes a <see cref="RingCorruptedException"/>, never an access outside the ring.
/// The ring holds a lease on the region's mapping, released by <see cref="Dispose"/>.</para>
/// <para>Layout and protocol: interop/include/uintripc.h, section 2.</para>
/// </remarks>
[DebuggerDisplay("{Engine.DebuggerDisplay,nq}")]
public abstract class RecordRing : IDisposable
{
    /// <summary>The engine: both claim protocols, the consumer, unblocking.</summary>
    private protected readonly RecordRingEngine Engine;

    private protected RecordRing(SharedRegion region, RegionPart part, PartKind kind)
        => Engine = new RecordRingEngine(region, part, kind, lease: true);

    /// <summary>Bytes of the data area.</summary>
    public int Capacity => Engine.Capacity;

    /// <summary>The longest payload a message may have.</summary>
    public int MaxMessageLength => Engine.MaxMessageLength;

    /// <summary>
    /// Consumer: whether a message is waiting (acquire loads; padding is looked through, not
    /// consumed). The wake-up protocol re-checks it after announcing a sleep.
    /// </summary>
    /// <exception cref="RingCorruptedException">The next record is invalid.</exception>
    public bool CanRead => Engine.CanRead;

    /// <summary>Bytes ever claimed by the producers (free-running; acquire load).</summary>
    public long ProducerPosition => Engine.ProducerPosition;

    /// <summary>Bytes ever consumed (free-running; acquire load).</summary>
    public long ConsumerPosition => Engine.ConsumerPosition;

    /// <summary>
    /// Consumer: hands waiting messages to <paramref name="handler"/>, in order, up to
    /// <paramref name="limit"/>, then frees their room; returns how many were handled.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="limit"/> is negative.</exception>
    /// <exception cref="RingCorruptedException">A record is invalid (messages before it are handled and consumed).</exception>
    /// <remarks>
    /// The payload spans point into shared memory and are valid only during the call. A
    /// message whose handler throws counts as consumed; the exception propagates. Do not
    /// read from this ring inside the handler (the batch is released only after it).
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Read<THandler>(ref THandler handler, int limit = int.MaxValue)
        where THandler : struct, IRecordHandler
        => Engine.Read(ref handler, limit);

    /// <summary>Consumer: copies the next message into <paramref name="destination"/>; false when none is waiting.</summary>
    /// <param name="type">The message type.</param>
    /// <param name="destination">Where the payload goes; <see cref="MaxMessageLength"/> bytes always suffice.</param>
    /// <param name="length">Bytes written to <paramref name="destination"/>.</param>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is too small for the next message, which stays in the ring.</exception>
    /// <exception cref="RingCorruptedException">The next record is invalid.</exception>
    public bool TryRead(out int type, Span<byte> destination, out int length) => Engine.TryRead(out type, destination, out length);

    /// <summary>
    /// Releases the ring's lease on the region's mapping (unmapped when the region and every
    /// other holder have released theirs too). Idempotent. Call it after the threads using
    /// this object stopped; any later call throws <see cref="ObjectDisposedException"/>.
    /// </summary>
    public void Dispose()
    {
        Engine.Dispose();
        GC.SuppressFinalize(this);
    }
}
