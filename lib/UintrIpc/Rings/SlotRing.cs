using System.Diagnostics;
using System.Runtime.CompilerServices;
using UintrIpc.Memory;

namespace UintrIpc.Rings;

/// <summary>
/// A ring of fixed-size <typeparamref name="T"/> elements in a <see cref="SharedRegion"/>, seen
/// from its consumer: what <see cref="SpscRing{T}"/> and <see cref="MpscRing{T}"/> share (they
/// differ only in how producers write). Accept this type where either kind will do.
/// </summary>
/// <typeparam name="T">
/// The element type: an unmanaged struct with the same layout on every side (no references,
/// no pointers into one process).
/// </typeparam>
/// <remarks>
/// <para>Create the region with the ring's <c>Part</c> among its parts, then attach ring
/// objects. At most one thread consumes at a time, in all processes together.</para>
/// <para>Each object keeps its own position and reads the shared ones when it is created: to
/// take over a role after a peer stopped, create a new object. The ring holds a lease on the
/// region's mapping: it keeps working after the region is disposed, and the memory is unmapped
/// once the region and every ring on it are disposed.</para>
/// <para>Nothing read from shared memory is trusted: a corrupt or hostile value makes the call
/// throw <see cref="RingCorruptedException"/>, never read or write out of bounds or hang.
/// Layout and protocol: interop/include/uintripc.h, section 2.</para>
/// </remarks>
[DebuggerDisplay("{DebuggerDisplay,nq}")]
public abstract class SlotRing<T> : IDisposable where T : unmanaged
{
    /// <summary>The engine, embedded in the object (no indirection on the hot path).</summary>
    internal SlotRingEngine Engine;

    private protected unsafe SlotRing(SharedRegion region, RegionPart part, PartKind kind, bool lease, int trailerSize = 0)
        => Engine = SlotRingEngine.Attach(region, part, kind, sizeof(T), lease, trailerSize);

    /// <summary>The region the ring lives in.</summary>
    public SharedRegion Region => Engine.Region;

    /// <summary>Slots in the ring.</summary>
    public int Capacity => (int)Engine.Capacity;

    /// <summary>
    /// The shared producer position (acquire): slots ever claimed (MPSC) or written (SPSC,
    /// which may lag the last write briefly).
    /// </summary>
    public long ProducerPosition => Engine.ProducerPosition;

    /// <summary>The shared consumer position: slots ever consumed or skipped (acquire).</summary>
    public long ConsumerPosition => Engine.ConsumerPosition;

    /// <summary>Approximate number of elements waiting, from the shared positions.</summary>
    public int Count => Engine.Count;

    /// <summary>
    /// Consumer: whether the next slot is published (or skipped, MPSC) (acquire). A consumer
    /// about to sleep checks it once more after announcing that it sleeps.
    /// </summary>
    /// <exception cref="RingCorruptedException">The next slot holds a value no producer writes.</exception>
    public bool CanRead => Engine.CanRead;

    private string DebuggerDisplay => $"{GetType().Name}<{typeof(T).Name}> capacity={Capacity} tail={ProducerPosition} head={ConsumerPosition}";

    /// <summary>
    /// Consumer: reads the next element in position order, or returns false when it is not
    /// published (MPSC: even if a later one is).
    /// </summary>
    /// <exception cref="RingCorruptedException">The next slot holds a value no producer writes.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryRead(out T item) => Engine.TryRead(out item);

    /// <summary>Consumer: reads up to <paramref name="destination"/>.Length published elements, in order; returns how many.</summary>
    /// <exception cref="RingCorruptedException">A slot holds a value no producer writes.</exception>
    public int TryRead(Span<T> destination) => Engine.TryRead(destination);

    /// <summary>
    /// Consumer: hands up to <paramref name="limit"/> published elements to <paramref name="handler"/>
    /// in place (no copy), in order, then gives their slots back; returns how many were handled.
    /// </summary>
    /// <param name="handler">A struct handler; generic, so the call is specialised and can be inlined.</param>
    /// <param name="limit">The most elements to handle (zero or more).</param>
    /// <exception cref="RingCorruptedException">A slot holds a value no producer writes.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="limit"/> is negative.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Drain<THandler>(ref THandler handler, int limit = int.MaxValue)
        where THandler : struct, ISlotHandler<T>, allows ref struct
        => Engine.Drain<T, THandler>(ref handler, limit);

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
