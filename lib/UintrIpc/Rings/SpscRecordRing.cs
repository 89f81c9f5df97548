using System.Diagnostics;
using System.Runtime.CompilerServices;
using UintrIpc.Memory;

namespace UintrIpc.Rings;

// A thin facade over the engine in RecordRing.cs.

/// <summary>
/// A single-producer, single-consumer ring of variable-length messages (records) in a part
/// of a <see cref="SharedRegion"/>, usable across processes.
/// </summary>
/// <remarks>
/// <para>
/// Create the part with <see cref="Part"/> when creating the region, then attach one
/// instance per process (or per side). One thread at a time may produce
/// (<see cref="TryWrite"/>, <see cref="TryClaim"/>) and one thread at a time may consume
/// (<see cref="Read{THandler}"/>, <see cref="TryRead"/>); they may be in different processes.
/// Nothing blocks: a full ring makes <see cref="TryWrite"/> return false, an empty one makes
/// the reads return nothing. Waiting is the job of the wake-up protocol built on top.
/// </para>
/// <para>
/// Messages are 0 to <see cref="MaxMessageLength"/> bytes with a type &gt;= 0; each takes
/// 8 + its length bytes rounded up to 8 (plus padding when it would cross the end of the
/// data area). Everything read from shared memory is validated; a peer that breaks the
/// ring's invariants causes a <see cref="RingCorruptedException"/>, never an access outside
/// the ring.
/// </para>
/// <para>Layout and protocol: interop/include/uintripc.h, section 2.</para>
/// </remarks>
[DebuggerDisplay("{_ring.DebuggerDisplay,nq}")]
public sealed class SpscRecordRing : IDisposable
{
    private readonly RecordRing _ring;

    /// <summary>Attaches to the ring in <paramref name="part"/> of <paramref name="region"/>, validating its descriptor and positions.</summary>
    /// <exception cref="ArgumentException">The part is not an SPSC record ring part of this region.</exception>
    /// <exception cref="RegionFormatException">The ring's descriptor is invalid.</exception>
    /// <exception cref="RingCorruptedException">The ring's positions are inconsistent.</exception>
    public SpscRecordRing(SharedRegion region, RegionPart part) => _ring = new RecordRing(region, part, PartKind.SpscRecords, lease: true);

    /// <summary>Attaches to the first SPSC record ring part of <paramref name="region"/> with <paramref name="tag"/>.</summary>
    /// <exception cref="KeyNotFoundException">The region has no such part.</exception>
    /// <exception cref="RegionFormatException">The ring's descriptor is invalid.</exception>
    /// <exception cref="RingCorruptedException">The ring's positions are inconsistent.</exception>
    public SpscRecordRing(SharedRegion region, uint tag = 0)
        : this(region, (region ?? throw new ArgumentNullException(nameof(region))).FindPart(PartKind.SpscRecords, tag))
    {
    }

    /// <summary>
    /// Releases the ring's lease on the region's mapping (unmapped when the region and every
    /// other holder have released theirs too). Idempotent. Call it after the threads using
    /// this object stopped; any later call throws <see cref="ObjectDisposedException"/>.
    /// </summary>
    public void Dispose() => _ring.Dispose();

    /// <summary>Bytes of the data area.</summary>
    public int Capacity => _ring.Capacity;

    /// <summary>The longest payload a message may have.</summary>
    public int MaxMessageLength => _ring.MaxMessageLength;

    /// <summary>
    /// Whether a message is waiting (acquire loads; padding is looked through, not consumed).
    /// The wake-up protocol uses it to re-check the ring after announcing a sleep.
    /// Consumer side.
    /// </summary>
    /// <exception cref="RingCorruptedException">The next record is invalid.</exception>
    public bool CanRead => _ring.CanRead;

    /// <summary>Bytes ever claimed by the producer (free-running; acquire load).</summary>
    public long ProducerPosition => _ring.ProducerPosition;

    /// <summary>Bytes ever consumed (free-running; acquire load).</summary>
    public long ConsumerPosition => _ring.ConsumerPosition;

    /// <summary>Describes the ring part to pass to <see cref="SharedRegion.CreateAnonymous(uint, ReadOnlySpan{PartSpec})"/> or <see cref="SharedRegion.CreateNamed(string, uint, ReadOnlySpan{PartSpec})"/>.</summary>
    /// <param name="capacity">Bytes of the data area: a power of two from 64 to 2^30.</param>
    /// <param name="maxMessageLength">Longest payload, at most <paramref name="capacity"/> / 8; 0 for exactly that.</param>
    /// <param name="tag">Tells rings of one region apart (for example 0 = requests, 1 = responses).</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is out of range.</exception>
    public static PartSpec Part(int capacity, int maxMessageLength = 0, uint tag = 0)
        => RecordRing.Part(PartKind.SpscRecords, capacity, maxMessageLength, tag);

    /// <summary>Copies a message into the ring. Producer side.</summary>
    /// <param name="type">Message type, &gt;= 0, handed to the consumer with the message.</param>
    /// <param name="payload">0 to <see cref="MaxMessageLength"/> bytes.</param>
    /// <returns>False when the ring has no room for it now.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="type"/> is negative or <paramref name="payload"/> is too long.</exception>
    /// <exception cref="RingCorruptedException">The ring's positions are inconsistent.</exception>
    /// <remarks>An open claim (see <see cref="TryClaim"/>) is discarded first.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryWrite(int type, ReadOnlySpan<byte> payload) => _ring.TryWrite(type, payload);

    /// <summary>
    /// Claims room for a message of <paramref name="length"/> bytes to be written in place
    /// (zero copy), then published with <see cref="RecordClaim.Commit"/>. Producer side.
    /// </summary>
    /// <param name="type">Message type, &gt;= 0.</param>
    /// <param name="length">0 to <see cref="MaxMessageLength"/> bytes.</param>
    /// <param name="claim">The claimed room, when the method returns true.</param>
    /// <returns>False when the ring has no room for it now.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="type"/> is negative or <paramref name="length"/> is out of range.</exception>
    /// <exception cref="RingCorruptedException">The ring's positions are inconsistent.</exception>
    /// <remarks>
    /// Nothing is visible to the consumer before the commit. A claim that is still open when
    /// the producer claims or writes again is discarded (for example when the code that fills
    /// it threw); committing it afterwards throws <see cref="InvalidOperationException"/>.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryClaim(int type, int length, out RecordClaim claim) => _ring.TryClaim(type, length, out claim);

    /// <summary>
    /// Hands waiting messages to <paramref name="handler"/>, in order, up to
    /// <paramref name="limit"/>, then frees their room. Consumer side.
    /// </summary>
    /// <returns>How many messages were handled.</returns>
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
        => _ring.Read(ref handler, limit);

    /// <summary>Copies the next message into <paramref name="destination"/>. Consumer side.</summary>
    /// <param name="type">The message type.</param>
    /// <param name="destination">Where the payload goes; <see cref="MaxMessageLength"/> bytes always suffice.</param>
    /// <param name="length">Bytes written to <paramref name="destination"/>.</param>
    /// <returns>False when no message is waiting.</returns>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is too small for the next message, which stays in the ring.</exception>
    /// <exception cref="RingCorruptedException">The next record is invalid.</exception>
    public bool TryRead(out int type, Span<byte> destination, out int length) => _ring.TryRead(out type, destination, out length);
}
