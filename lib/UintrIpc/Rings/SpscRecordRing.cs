using System.Runtime.CompilerServices;
using UintrIpc.Memory;

namespace UintrIpc.Rings;

// A thin facade over the engine (RecordRingEngine.cs): the producer side; the consumer is RecordRing.

/// <summary>
/// A single-producer, single-consumer ring of variable-length messages (records) in a part
/// of a <see cref="SharedRegion"/>, usable across processes.
/// </summary>
/// <remarks>
/// <para>
/// Create the part with <see cref="Part"/> when creating the region, then attach one
/// instance per process (or per side). One thread at a time may produce
/// (<see cref="TryWrite"/>, <see cref="TryClaim"/>) and one thread at a time may consume
/// (see <see cref="RecordRing"/>); they may be in different processes.
/// </para>
/// <para>Layout and protocol: interop/include/uintripc.h, section 2.</para>
/// </remarks>
public sealed class SpscRecordRing : RecordRing
{

    /// <summary>Attaches to the ring in <paramref name="part"/> of <paramref name="region"/>, validating its descriptor and positions.</summary>
    /// <exception cref="ArgumentException">The part is not an SPSC record ring part of this region.</exception>
    /// <exception cref="RegionFormatException">The ring's descriptor is invalid.</exception>
    /// <exception cref="RingCorruptedException">The ring's positions are inconsistent.</exception>
    public SpscRecordRing(SharedRegion region, RegionPart part) 
        : base(region, part, PartKind.SpscRecords)
    {
    }

    /// <summary>Attaches to the first SPSC record ring part of <paramref name="region"/> with <paramref name="tag"/>.</summary>
    /// <exception cref="KeyNotFoundException">The region has no such part.</exception>
    /// <exception cref="RegionFormatException">The ring's descriptor is invalid.</exception>
    /// <exception cref="RingCorruptedException">The ring's positions are inconsistent.</exception>
    public SpscRecordRing(SharedRegion region, uint tag = 0)
        : this(region, (region ?? throw new ArgumentNullException(nameof(region))).FindPart(PartKind.SpscRecords, tag))
    {
    }

    /// <summary>Describes the ring part to pass to <see cref="SharedRegion.CreateAnonymous(uint, ReadOnlySpan{PartSpec})"/> or <see cref="SharedRegion.CreateNamed(string, uint, ReadOnlySpan{PartSpec})"/>.</summary>
    /// <param name="capacity">Bytes of the data area: a power of two from 64 to 2^30.</param>
    /// <param name="maxMessageLength">Longest payload, at most <paramref name="capacity"/> / 8; 0 for exactly that.</param>
    /// <param name="tag">Tells rings of one region apart (for example 0 = requests, 1 = responses).</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is out of range.</exception>
    public static PartSpec Part(int capacity, int maxMessageLength = 0, uint tag = 0)
        => RecordRingEngine.Part(PartKind.SpscRecords, capacity, maxMessageLength, tag);

    /// <summary>Copies a message into the ring. Producer side.</summary>
    /// <param name="type">Message type, &gt;= 0, handed to the consumer with the message.</param>
    /// <param name="payload">0 to <see cref="RecordRing.MaxMessageLength"/> bytes.</param>
    /// <returns>False when the ring has no room for it now.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="type"/> is negative or <paramref name="payload"/> is too long.</exception>
    /// <exception cref="RingCorruptedException">The ring's positions are inconsistent.</exception>
    /// <remarks>An open claim (see <see cref="TryClaim"/>) is discarded first.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryWrite(int type, ReadOnlySpan<byte> payload) => Engine.TryWrite(type, payload);

    /// <summary>
    /// Claims room for a message of <paramref name="length"/> bytes to be written in place
    /// (zero copy), then published with <see cref="RecordClaim.Commit"/>. Producer side.
    /// </summary>
    /// <param name="type">Message type, &gt;= 0.</param>
    /// <param name="length">0 to <see cref="RecordRing.MaxMessageLength"/> bytes.</param>
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
    public bool TryClaim(int type, int length, out RecordClaim claim) => Engine.TryClaim(type, length, out claim);
}
