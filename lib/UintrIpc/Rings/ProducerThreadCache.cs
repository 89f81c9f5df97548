using System.Runtime.CompilerServices;

namespace UintrIpc.Rings;

/// <summary>
/// Embedded in an MPSC ring object: the first thread that claims through it finds its intent
/// word and marker tag (uintripc.h 2f) in these fields; other threads look their registration
/// up in the <see cref="ProducerTable"/>. Only that thread ever finds its own id here, and it
/// wrote the other fields before it, so the fast path needs no fence.
/// </summary>
internal unsafe struct ProducerThreadCache
{
    /// <summary>
    /// The calling thread's managed id, kept in a thread static: Environment.CurrentManagedThreadId
    /// is a call on every claim (and the JIT spills around it), a thread static is an inlined TLS load.
    /// Managed thread ids start at 1, so 0 means not yet read on this thread.
    /// </summary>
    [ThreadStatic]
    private static int t_threadId;

    private ulong* _intent;
    private int _thread;
    private uint _tag;

    /// <summary>
    /// The intent word and marker tag of the calling thread, whose <see cref="CurrentThread"/> is
    /// <paramref name="thread"/>, registering it on first use; <paramref name="cached"/>: the
    /// caller is the thread these fields belong to (so it alone uses what the owner of this cache
    /// keeps for that thread, e.g. a slot ring's unmarked claim).
    /// </summary>
    /// <remarks>The id is read by the caller before anything else: the read may call out, and what is live across it is spilled.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ulong* Intent(int thread, ProducerTable table, out uint tag, out bool cached)
        => Intent(thread, table, ref Unsafe.NullRef<NoDeferredClaims>(), out tag, out cached); // a constant: nothing on the fast path

    /// <summary>
    /// <see cref="Intent(int, ProducerTable, out uint, out bool)"/> for an owner that defers the
    /// cached thread's markers: <paramref name="claims"/> writes them when that thread has exited
    /// and its registration ends (only on the registration path); a null reference: the owner defers none.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ulong* Intent<TClaims>(int thread, ProducerTable table, ref TClaims claims, out uint tag, out bool cached)
        where TClaims : struct, IDeferredClaims
    {
        if (thread == _thread)
        {
            tag = _tag;
            cached = true;
            return _intent;
        }

        // Returned, not written through an out parameter: an out local of the inlined fast path
        // would be address-exposed and live in memory on every claim.
        ProducerSlot slot = Register(table, ref claims);
        tag = slot.Tag;
        cached = Volatile.Read(ref _thread) == thread; // this thread may have just become the cached one
        return slot.Intent;
    }

    /// <summary>The cached thread's intent word when the calling thread, whose <see cref="CurrentThread"/> is <paramref name="thread"/>, is that thread; else null (nothing registered: the caller takes <see cref="Intent(int, ProducerTable, out uint, out bool)"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal readonly ulong* CachedIntent(int thread) => thread == _thread ? _intent : null; // plain: only that thread finds its id here (Take)

    /// <summary>The marker tag of the cached thread (meaningful once a thread is cached).</summary>
    internal readonly uint Tag => _tag;

    /// <summary>The calling thread's managed id.</summary>
    internal static int CurrentThread
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            int id = t_threadId;
            return id != 0 ? id : ReadThreadId();
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int ReadThreadId() => t_threadId = Environment.CurrentManagedThreadId;

    /// <summary>The managed id of the cached thread; 0: none (yet, or since it exited).</summary>
    internal int CachedThread => Volatile.Read(ref _thread);

    /// <summary>Makes <paramref name="slot"/> the cached one, for the calling thread (the producer table's lock is held).</summary>
    internal void Take(ProducerSlot slot)
    {
        // Its fields first, then its id (release): the fast path reads the id first, with no fence.
        _intent = slot.Intent;
        _tag = slot.Tag;
        Volatile.Write(ref _thread, CurrentThread);
    }

    /// <summary>
    /// The cached thread exited and its registration ended (the table's lock is held): no thread is
    /// cached until the next one registers. Before the table lets go of the exited thread (and with
    /// it its managed id, which the runtime then reuses), so no new thread finds the old entry here.
    /// </summary>
    internal void Clear() => Volatile.Write(ref _thread, 0); // release

    [MethodImpl(MethodImplOptions.NoInlining)]
    private ProducerSlot Register<TClaims>(ProducerTable table, ref TClaims claims)
        where TClaims : struct, IDeferredClaims
        => table.ForCurrentThread(ref this, ref claims);

    /// <summary>The type of an owner without deferred markers (record rings mark at the claim), passed as a null reference.</summary>
    private struct NoDeferredClaims : IDeferredClaims
    {
        public readonly void MarkDeferredClaims()
        {
        }
    }
}
