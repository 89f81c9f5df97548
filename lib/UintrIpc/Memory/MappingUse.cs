using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace UintrIpc.Memory;

/// <summary>
/// Which mappings one thread is inside a call on: the per-thread half of the deferred unmap
/// (SafeHandle's reference count, made cheap for per-message calls). A ring call records its
/// region's address here with plain stores before it checks whether it was disposed; the last
/// lease release runs a process-wide barrier (membarrier) and then reads every thread's record:
/// a thread in a call is seen, and a thread that enters later sees the ring disposed and leaves
/// without touching the memory (an asymmetric Dekker: no fence and no atomic on the call path).
/// A role that one thread at a time plays on a ring object (its consumer; an SPSC ring's producer) has a record of its
/// own instead (<see cref="ForRole"/>): its mapping recorded once, at creation, the depth stored
/// per call, without the lookup of the thread's record (and for calls that never nest and cannot
/// throw, <see cref="EnterRoleCall"/>: two constant stores, no try/finally); two threads in that
/// role at once break the role's contract, and then also this record (one's exit can hide the other's call).
/// </summary>
/// <remarks>
/// The call side's order (depth store, then the ring's plain disposed load) is kept by the JIT as
/// it is, not by the .NET memory model: ordinary accesses may be reordered, and not even a
/// volatile write then a volatile read forbids store-load reordering (only full fences do, the
/// cost this avoids). RyuJIT (.NET 10) has no instruction scheduler and was seen to keep every
/// disposed load after its own call's depth store, in a caller's loop and in two calls inlined back
/// to back (JitDisasm, design-notes "review12"); the runtime's own asymmetric-lock test relies on
/// the same. Check that disasm again when the runtime changes.
/// <para>Behind this, the release never leaves the range unmapped while a ring object can reach it
/// (<see cref="SafeMappingHandle.Retire"/>: private writable memory in its place until the region
/// is collected): a store through a claim, which no record can cover, or a load that a missing
/// record lets race the release finds memory, not a hole. A consumer's empty poll without a record was built on it and not kept: 5-6 ns
/// faster per round trip in a duplex part, 15 ns slower with two rings (design-notes "poll0").</para>
/// </remarks>
internal sealed class MappingUse
{
    /// <summary>Nesting depth recorded by address (a handler calling another ring); deeper calls count as using every mapping.</summary>
    private const int Slots = 4;

    [ThreadStatic]
    private static MappingUse? t_current;

    private static readonly Lock s_lock = new();
    /// <summary>
    /// Every live thread's record, and every role's weakly (copy on write; those of exited threads,
    /// collected ring objects and unmapped regions are dropped at the next registration). Weak,
    /// because a role's record holds its region: a strong list kept an undisposed ring's mapping
    /// until the process ended (design-notes "keepalive"); a role's call holds its record itself.
    /// </summary>
    private static Entry[] s_all = [];

    /// <summary>The thread whose record this is; null for a role's record (see <see cref="ForRole"/>).</summary>
    private readonly Thread? _thread;
    /// <summary>
    /// A role's record: the region it records calls on (dropped once that is unmapped); null for a thread's.
    /// Strong on purpose: a call holds its record (<see cref="Call"/>), and so the region, whose
    /// mapping a finalizer would otherwise unmap under a call whose ring object became unreachable
    /// during it (RegionLeaseTests).
    /// </summary>
    private readonly SharedRegion? _region;
    /// <summary>A role's record: its region's mapping, the one every call of the role is on (recorded once here, not per call); 0 for a thread's.</summary>
    private readonly nint _roleMapping;
    /// <summary>A role's record: where the role marks its quick calls besides the depth (the SPSC slot producer's private tail), or null.</summary>
    private readonly IRoleCallMark? _callMark;
    /// <summary>The address of each call's mapping, by depth (inline: no bounds check, no indirection).</summary>
    private Addresses _addresses;
    /// <summary>Calls this thread (a role: the thread playing it) is inside (written only by it; plain stores, made visible by the releaser's barrier).</summary>
    private int _depth;

    /// <summary>Records that the calling thread enters a call on the mapping at <paramref name="address"/>; end it with <see cref="Call.Dispose"/> (a <c>using</c> declaration).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Call Enter(nint address, object owner) => Current.Begin(address, owner);

    /// <summary>
    /// Records a claim's or batch's completion (publish, commit, abort, dispose) in <paramref name="use"/>,
    /// the record its claim was taken in (the claim is a ref struct: the same thread completes it),
    /// on <paramref name="region"/>'s mapping; null: a channel's claim, whose mapping the channel's
    /// own count keeps, records nothing.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Call Enter(MappingUse? use, SharedRegion region) => use is null ? default : use.Begin(region.MappingAddress, region);

    /// <summary>The calling thread's record (its <see cref="ThreadId"/> spares a caller a second thread static).</summary>
    internal static MappingUse Current
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => t_current ?? Register();
    }

    /// <summary>A thread's record: the thread's managed id (Environment.CurrentManagedThreadId); 0 for a role's.</summary>
    internal int ThreadId { get; }

    private MappingUse(Thread? thread, SharedRegion? region, IRoleCallMark? callMark = null)
    {
        _thread = thread;
        _region = region;
        _roleMapping = region?.MappingAddress ?? 0;
        _callMark = callMark;
        ThreadId = thread?.ManagedThreadId ?? 0;
    }

    /// <summary>
    /// A record for the calls of one role that one thread at a time plays on a ring object (its
    /// consumer), whichever thread that is: such a call records itself here with the same plain
    /// stores, without the thread static's lookup (a call into the runtime's TLS getter and four
    /// dependent loads per call). Kept while <paramref name="region"/> is mapped: one per ring object.
    /// A role in a call marked in <paramref name="callMark"/> (<see cref="IRoleCallMark"/>) counts as in a call too.
    /// </summary>
    internal static MappingUse ForRole(SharedRegion region, IRoleCallMark? callMark = null) => Add(new MappingUse(null, region, callMark));

    /// <summary>Records that a call of this record's role enters a call on the mapping at <paramref name="address"/> (as <see cref="Enter(nint, object)"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal Call Begin(nint address, object owner)
    {
        int depth = _depth;
        if ((uint)depth < Slots)
        {
            Unsafe.Add(ref Unsafe.As<Addresses, nint>(ref _addresses), depth) = address; // plain: before the depth that makes it count
        }

        _depth = depth + 1; // plain, before the caller's disposed check (ordered by the releaser's barrier)
        return new Call(this, depth, owner);
    }

    /// <summary>
    /// Records that the one call of a role whose calls never nest (an SPSC ring's producer: no
    /// user code runs inside them) enters: one constant store, nothing for a finally to keep.
    /// The caller checks the ring's disposed flag after it and ends with <see cref="LeaveRoleCall"/>
    /// on every path, a throw included: a call that can throw takes <see cref="Begin"/>'s using instead.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void EnterRoleCall()
    {
        Debug.Assert(_thread is null && _depth == 0, "a role's record, in no call");
        _depth = 1; // plain, before the caller's disposed check (ordered by the releaser's barrier)
    }

    /// <summary>Ends the call <see cref="EnterRoleCall"/> began (release: the call's accesses to the mapping come before it; the releaser reads it with acquire).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void LeaveRoleCall() => Volatile.Write(ref _depth, 0);

    /// <summary>
    /// Whether some thread is inside a call on the mapping at <paramref name="address"/>. The caller
    /// released the last lease and ran <see cref="Interlocked.MemoryBarrierProcessWide"/> first, so
    /// every call that entered before sees its ring disposed or is seen here.
    /// </summary>
    internal static bool IsInUse(nint address)
    {
        foreach (Entry entry in Volatile.Read(ref s_all))
        {
            if (entry.Record is not { } use)
            {
                continue; // a role whose ring object was collected is in no call (a call holds its record)
            }

            int depth = Volatile.Read(ref use._depth);
            if (use._thread is null)
            {
                if (use._roleMapping == address && (depth != 0 || (use._callMark?.InCall ?? false)))
                {
                    return true; // every call of a role is on its ring's mapping, whatever its depth
                }

                continue;
            }

            if (depth == 0 || !use._thread.IsAlive)
            {
                continue; // an exited thread is in no call (a call that threw ran its finally first)
            }

            if (depth > Slots)
            {
                return true; // too deep to say which: keep every mapping until it returns
            }

            for (int i = 0; i < depth; i++)
            {
                if (Volatile.Read(ref use._addresses[i]) == address)
                {
                    return true;
                }
            }
        }

        return false;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static MappingUse Register() => t_current = Add(new MappingUse(Thread.CurrentThread, null));

    private static MappingUse Add(MappingUse use)
    {
        lock (s_lock)
        {
            Volatile.Write(ref s_all, [.. s_all.Where(e => e.Record is { } u && (u._thread?.IsAlive ?? u._region!.IsMapped)), new Entry(use)]);
        }

        return use;
    }

    [InlineArray(Slots)]
    private struct Addresses
    {
        private nint _first;
    }

    /// <summary>A thread's record, strongly; a role's, weakly (its ring object holds it).</summary>
    private readonly struct Entry(MappingUse use)
    {
        private readonly MappingUse? _thread = use._thread is null ? null : use;
        private readonly WeakReference<MappingUse>? _role = use._thread is null ? new(use) : null;

        public MappingUse? Record => _thread ?? (_role!.TryGetTarget(out MappingUse? role) ? role : null);
    }

    /// <summary>One call on a mapping, from <see cref="Enter(nint, object)"/> to <see cref="Dispose"/>.</summary>
    /// <param name="use">The record the call entered in; null when it records nothing (<see cref="Enter(MappingUse?, SharedRegion)"/>).</param>
    /// <param name="depth">The record's depth before the call (restored at its end).</param>
    /// <param name="owner">What holds the mapping (the ring object): kept reachable until the call ends, so that no finalizer unmaps under it.</param>
    internal readonly ref struct Call(MappingUse? use, int depth, object? owner)
    {
        /// <summary>Ends the call (a ring call's <c>using</c>, so also when it throws): the mapping may go once no other call uses it (release: the call's accesses to the mapping come before it; the releaser reads it with acquire).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal void Dispose()
        {
            if (use is not null) // null: a channel's claim recorded nothing (Enter)
            {
                Volatile.Write(ref use._depth, depth);
            }

            GC.KeepAlive(owner); // the owner, its region and the role's record stay reachable to here
        }
    }
}
