using System.Runtime.CompilerServices;
using UintrIpc.Memory;

namespace UintrIpc.Rings;

// A thin facade over the engine (RecordRingEngine.cs): the producer side; the consumer is RecordRing.

/// <summary>
/// A multi-producer, single-consumer ring of variable-length messages (records) in a part
/// of a <see cref="SharedRegion"/>, usable across processes.
/// </summary>
/// <remarks>
/// <para>
/// Create the part with <see cref="Part"/> when creating the region, then attach one
/// instance per process (or per side). Any number of threads in any number of processes may
/// produce (<see cref="TryWrite"/>, <see cref="TryClaim"/>) at once; they claim room with an
/// atomic compare-and-swap on the shared tail. One thread at a time consumes (see
/// <see cref="RecordRing"/>) and may unblock a dead producer's claim (<see cref="TryUnblock(TimeSpan)"/>).
/// Messages of one producer thread arrive in the order it wrote them.
/// </para>
/// <para>Layout and protocol: interop/include/uintripc.h, section 2.</para>
/// </remarks>
public sealed class MpscRecordRing : RecordRing
{

    /// <summary>Attaches to the ring in <paramref name="part"/> of <paramref name="region"/>, validating its descriptor and positions.</summary>
    /// <exception cref="ArgumentException">The part is not an MPSC record ring part of this region.</exception>
    /// <exception cref="RegionFormatException">The ring's descriptor is invalid.</exception>
    /// <exception cref="RingCorruptedException">The ring's positions are inconsistent.</exception>
    public MpscRecordRing(SharedRegion region, RegionPart part) 
        : base(region, part, PartKind.MpscRecords)
    {
    }

    /// <summary>Attaches to the first MPSC record ring part of <paramref name="region"/> with <paramref name="tag"/>.</summary>
    /// <exception cref="KeyNotFoundException">The region has no such part.</exception>
    /// <exception cref="RegionFormatException">The ring's descriptor is invalid.</exception>
    /// <exception cref="RingCorruptedException">The ring's positions are inconsistent.</exception>
    public MpscRecordRing(SharedRegion region, uint tag = 0)
        : this(region, (region ?? throw new ArgumentNullException(nameof(region))).FindPart(PartKind.MpscRecords, tag))
    {
    }

    /// <summary>Describes the ring part to pass to <see cref="SharedRegion.CreateAnonymous(uint, ReadOnlySpan{PartSpec})"/> or <see cref="SharedRegion.CreateNamed(string, uint, ReadOnlySpan{PartSpec})"/>.</summary>
    /// <param name="capacity">Bytes of the data area: a power of two from 64 to 2^30.</param>
    /// <param name="maxMessageLength">Longest payload, at most <paramref name="capacity"/> / 8; 0 for exactly that.</param>
    /// <param name="tag">Tells rings of one region apart (for example 0 = requests, 1 = responses).</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is out of range.</exception>
    public static PartSpec Part(int capacity, int maxMessageLength = 0, uint tag = 0)
        => RecordRingEngine.Part(PartKind.MpscRecords, capacity, maxMessageLength, tag);

    /// <summary>Copies a message into the ring. Producer side.</summary>
    /// <param name="type">Message type, &gt;= 0, handed to the consumer with the message.</param>
    /// <param name="payload">0 to <see cref="RecordRing.MaxMessageLength"/> bytes.</param>
    /// <returns>False when the ring has no room for it now.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="type"/> is negative or <paramref name="payload"/> is too long.</exception>
    /// <exception cref="RingCorruptedException">The ring's positions are inconsistent.</exception>
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
    /// Claims are in ring order: the consumer stops at an open claim until it is completed,
    /// so fill it at once and complete it exactly once; abort it if filling fails (try/catch).
    /// A claim that is never completed blocks the consumer until <see cref="TryUnblock(TimeSpan)"/>.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryClaim(int type, int length, out RecordClaim claim) => Engine.TryClaim(type, length, out claim);

    /// <summary>
    /// Recovers from a producer that died between claiming and committing, as soon as its death
    /// is known: when the record at the consumer's position is claimed but uncommitted and the
    /// producer that claimed it is known to be dead (its process has exited), turns it into
    /// padding so the messages after it flow again. A live producer's claim is never touched,
    /// however long it takes. Consumer side; call it when reads keep returning nothing (a channel
    /// consumer does, before it sleeps).
    /// </summary>
    /// <returns>True when a dead producer's claim was turned into padding (its message is lost).</returns>
    /// <exception cref="RingCorruptedException">The ring's positions or the blocked record are invalid.</exception>
    /// <remarks>
    /// Cheap when nothing is stuck (the next header and the tail are read); otherwise it reads the
    /// producer table and polls the owner's pidfd (a system call). Each producer thread takes an
    /// entry in the ring's producer table on its first write through an object (64 entries;
    /// entries of exited producers are reused) and gives it back when the object is disposed. A
    /// producer counts as dead only when it is known to be: its process has exited (seen through
    /// a pidfd, in the same pid namespace), or its ring object was disposed. Anything else leaves
    /// the claim to <see cref="TryUnblock(TimeSpan)"/>. Protocol: interop/include/uintripc.h, section 2f.
    /// </remarks>
    public bool TrySkipDeadClaim() => Engine.TrySkipDeadClaim();

    /// <summary>
    /// Recovers from a producer that died between claiming and committing, after a time (use it
    /// when the death cannot be known; <see cref="TrySkipDeadClaim"/> acts as soon as it is): when the record
    /// at the consumer's position has been claimed but not committed for at least
    /// <paramref name="blockedFor"/>, turns it into padding so the messages after it flow
    /// again (Agrona's Unblock). Consumer side; call it when reads keep returning nothing.
    /// </summary>
    /// <param name="blockedFor">
    /// How long the same record must have blocked, measured from the first call that saw it
    /// blocked (so call this repeatedly, for example from the idle loop). <see cref="TimeSpan.Zero"/>
    /// unblocks at once.
    /// </param>
    /// <returns>True when a record was turned into padding.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="blockedFor"/> is negative.</exception>
    /// <exception cref="RingCorruptedException">The ring's positions or the blocked record are invalid.</exception>
    /// <remarks>
    /// <para>
    /// Only safe when the producer is really dead (for example its process has exited): a
    /// producer that is merely slow would go on writing into bytes the ring has reused, and its
    /// message is lost. Choose <paramref name="blockedFor"/> much longer than any producer
    /// takes between claim and commit, or check that the producer's process is gone.
    /// </para>
    /// <para>
    /// A record whose header was never written (the producer died right after winning its
    /// claim) is found by scanning for the next header; a dead claim that wrapped around the
    /// end of the data area is removed in two steps (the padding, then the record).
    /// </para>
    /// </remarks>
    public bool TryUnblock(TimeSpan blockedFor) => Engine.TryUnblock(blockedFor);
}
