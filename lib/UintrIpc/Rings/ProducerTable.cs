using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using UintrIpc.Interop;
using UintrIpc.Memory;
using UintrIpc.Metrics;

namespace UintrIpc.Rings;

// The producer table of an MPSC ring (uintripc.h 2f), for both ring kinds: producers register
// one entry per thread of a ring object and store the intent of every claim there before the
// claim's CAS; the consumer uses the entries to attribute a claim that holds it up and to decide
// whether its producer is dead. One object per ring object: it registers that object's threads
// (producer side) and caches the pidfds of the producers it judged (consumer side).

/// <summary>The producer table of one MPSC ring part, as one ring object uses it.</summary>
internal sealed unsafe class ProducerTable : IDisposable
{
    private const uint Registering = (uint)RingLayout.ProducerRegistering;
    private const int EntryWords = RingLayout.ProducerEntrySize / sizeof(ulong);

    private readonly ulong* _entries;
    private readonly int _slots;
    private readonly uint* _unregistered;
    private readonly ulong* _head;
    /// <summary>
    /// Record rings: capacity - 1, for <see cref="TryFindDeadIntent"/> to tell a claim's first
    /// header (at its intent's start, or at the lap start after its padding) from the headers after
    /// it. Slot rings: 0, unused.
    /// </summary>
    private readonly ulong _recordLapMask;
    private readonly Lock _lock = new();
    /// <summary>The intent word of producers without an entry: written, never read (pinned, so its address is stable).</summary>
    private readonly ulong[] _spareIntent = GC.AllocateArray<ulong>(1, pinned: true);
    /// <summary>This object's registrations, one per producer thread (copy on write).</summary>
    private Registration[] _registrations = [];
    /// <summary>Consumer side: what was learnt about each entry's current owner.</summary>
    private OwnerState[]? _owners;
    private bool _disposed;

    internal ProducerTable(byte* ring, RingDescriptor.Geometry geometry)
    {
        _entries = (ulong*)(ring + geometry.ProducerTableOffset);
        _slots = geometry.ProducerSlots;
        _unregistered = (uint*)(ring + RingLayout.UnregisteredOffset);
        _head = (ulong*)(ring + RingLayout.HeadOffset);
        _recordLapMask = geometry.Kind == PartKind.MpscRecords ? (ulong)geometry.Capacity - 1 : 0;
    }

    /// <summary>
    /// The entry of the calling thread, registered on its first claim through this object
    /// (uintripc.h 2f); an entry-less stand-in when the table is full of live producers. A new
    /// registration first ends those of this object's threads that have exited (their entries go
    /// back to the table), and the calling thread becomes <paramref name="cache"/>'s thread when it
    /// holds none. <paramref name="claims"/> (null: none) marks the cached thread's deferred claims
    /// before its registration ends.
    /// </summary>
    internal ProducerSlot ForCurrentThread<TClaims>(ref ProducerThreadCache cache, ref TClaims claims)
        where TClaims : struct, IDeferredClaims
    {
        int thread = ProducerThreadCache.CurrentThread;
        if (cache.CachedThread != 0)
        {
            foreach (var registration in Volatile.Read(ref _registrations))
            {
                if (registration.ThreadId == thread)
                {
                    return registration.Slot;
                }
            }
        }

        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            ProducerSlot? slot = null;
            foreach (var registration in _registrations)
            {
                if (registration.ThreadId == thread)
                {
                    slot = registration.Slot;
                }
            }

            if (slot is null)
            {
                EndExitedRegistrations(ref cache, ref claims);
                slot = Register();
                Volatile.Write(ref _registrations, [.. _registrations, new Registration(Thread.CurrentThread, thread, slot.Value)]);
            }

            if (cache.CachedThread == 0)
            {
                cache.Take(slot.Value);
            }

            return slot.Value;
        }
    }

    /// <summary>
    /// Ends the registrations of this object's threads that have exited, as Dispose ends them: an
    /// exited thread claims no more, and its claims cannot be completed by another (they are ref
    /// structs), so one it left open is an ended registration's, which the consumer skips (2f). The
    /// cached thread's deferred markers are written first (2d), and the cache is cleared. Called when
    /// a thread registers: never on a claim of a registered thread.
    /// </summary>
    private void EndExitedRegistrations<TClaims>(ref ProducerThreadCache cache, ref TClaims claims)
        where TClaims : struct, IDeferredClaims
    {
        var kept = new List<Registration>(_registrations.Length);
        foreach (var registration in _registrations)
        {
            if (registration.Thread.IsAlive)
            {
                kept.Add(registration);
                continue;
            }

            if (registration.ThreadId == cache.CachedThread)
            {
                if (!Unsafe.IsNullRef(ref claims))
                {
                    claims.MarkDeferredClaims(); // before the registration ends, which uncovers the claim (2d)
                }

                cache.Clear();
            }

            End(registration.Slot);
        }

        if (kept.Count != _registrations.Length)
        {
            // The exited threads' ids are free to be reused from here on (their Thread objects go).
            Volatile.Write(ref _registrations, [.. kept]);
        }
    }

    /// <summary>
    /// Consumer: whether the producer named by a claimed marker's <paramref name="tag"/> is known
    /// to be dead (its registration ended, or its process exited).
    /// </summary>
    internal bool IsMarkerOwnerDead(uint tag)
    {
        int index = (int)(tag & 0xFF);
        if (index >= _slots)
        {
            return false; // no entry (UIPC_PRODUCER_NONE) or a forged index: nobody to judge
        }

        ulong owner = Volatile.Read(ref *Entry(index)); // acquire: pid_namespace was written before it
        if (ClaimMarker.Generation(owner) != ClaimMarker.GenerationOf(tag))
        {
            return true; // that registration ended: its object was closed, or its producer died and the entry was taken over
        }

        return IsDead(index, owner);
    }

    /// <summary>
    /// Consumer, for a claimed position with no marker (uintripc.h 2f, b): true when at least one
    /// registered intent covers <paramref name="position"/> and every one that does belongs to a
    /// dead producer; <paramref name="end"/> is then the smallest end of those intents.
    /// <paramref name="uncovered"/>: no intent covers it, not even an ended registration's, and every
    /// producer has an entry, so no producer won it (2f, c: a tail a peer moved forward).
    /// Record rings: an ended registration's intent counts as a dead producer's past the claim's
    /// first header (2f b) when <paramref name="endedTag"/> names that registration: the consumer
    /// just skipped a record it marked, so this is the rest of a batch its object was disposed
    /// with, which nothing else attributes. Not otherwise: at the first header its claim may still
    /// be in flight on another thread, and an intent holds 32 bits of a position, so an ended
    /// registration's last intent covers positions again every 2^32 bytes, where live producers'
    /// records are (<see cref="NoEndedTag"/>: none).
    /// </summary>
    internal bool TryFindDeadIntent(ulong position, uint endedTag, out ulong end, out bool uncovered)
    {
        end = ulong.MaxValue;
        uncovered = false;
        // Acquire: a producer sets it before its first entry-less claim, whose CAS we have seen.
        if (Volatile.Read(ref *_unregistered) != 0)
        {
            return false; // an entry-less producer may own the position without covering it
        }

        bool covered = false, endedCovers = false;
        for (int i = 0; i < _slots; i++)
        {
            ulong* entry = Entry(i);
            // Acquire loads, owner / claim / owner: equal owners make the claim that registration's.
            ulong owner = Volatile.Read(ref entry[0]);
            uint pid = (uint)owner;
            if (pid == Registering)
            {
                continue; // no registration yet: it claims nothing
            }

            ulong claim = Volatile.Read(ref entry[1]);
            if (Volatile.Read(ref entry[0]) != owner)
            {
                return false; // changing under us: judge again on the next call
            }

            uint count = (uint)(claim >> 32);
            uint into = (uint)position - (uint)claim;
            if (into >= count)
            {
                continue;
            }

            if (pid == 0 && !(IsPastFirstHeader(position, into) && ClaimMarker.Tag(i, owner) == endedTag))
            {
                // An ended registration claims nothing for (b), but its last claim may have been taken
                // while it ended and still be published (2d): not a position nobody claimed (c).
                endedCovers = true;
                continue;
            }

            covered = true;
            if (!IsDead(i, owner))
            {
                return false;
            }

            end = Math.Min(end, position + (count - into));
        }

        uncovered = !covered && !endedCovers;
        return covered;
    }

    /// <summary>Ends this object's registrations (its producer threads claim no more), and closes the pidfds it opened.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            foreach (var registration in _registrations)
            {
                End(registration.Slot);
            }

            if (_owners is not null)
            {
                foreach (var state in _owners)
                {
                    state.PidFd?.Dispose();
                }
            }
        }
    }

    private ulong* Entry(int index) => _entries + ((nint)index * EntryWords);

    /// <summary>Ends one registration of this object (its thread claims no more): owner = (0, generation) (uintripc.h 2f).</summary>
    private void End(ProducerSlot slot)
    {
        if (slot.Index != RingLayout.ProducerNone)
        {
            ulong owner = slot.Owner;
            // Full fence CAS: frees only our own registration (pid 0, same generation); the intent stays.
            Interlocked.CompareExchange(ref *Entry(slot.Index), owner & 0xFFFF_FFFF_0000_0000, owner);
        }
    }

    /// <summary>A tag no registration has (tags have 30 bits): for <see cref="TryFindDeadIntent"/>, no ended registration's intent counts.</summary>
    internal const uint NoEndedTag = uint.MaxValue;

    /// <summary>
    /// Record rings: whether <paramref name="position"/>, <paramref name="into"/> bytes into a claim's
    /// intent, lies after the claim's first header. The producer writes that header (the padding's,
    /// the claimed marker, a batch's start marker) right after its CAS, and every header after it
    /// only as it appends; Dispose ends the registration after the producer thread's last append,
    /// so a zero header past the first one is never written by an ended registration (2e, 2f).
    /// </summary>
    private bool IsPastFirstHeader(ulong position, uint into) => _recordLapMask != 0 && into != 0 && (position & _recordLapMask) != 0;

    /// <summary>
    /// Takes a free entry whose last intent is behind head, else a dead producer's whose claims are
    /// all behind head, else any free one; none: marks the ring unregistered. A free entry's intent
    /// may still attribute the rest of a batch its object was disposed with (2f b): taking it first
    /// would set the claim word to 0 and leave that rest to the manual unblock.
    /// </summary>
    private ProducerSlot Register()
    {
        ulong pidNamespace = PidNamespace.Current;
        uint pid = (uint)Environment.ProcessId;
        for (int pass = 0; pass < 3; pass++)
        {
            for (int i = 0; i < _slots; i++)
            {
                ulong* entry = Entry(i);
                ulong owner = Volatile.Read(ref *entry); // acquire
                bool usable = pass switch
                {
                    0 => (uint)owner == 0 && IsIntentConsumed(i),
                    1 => IsReclaimable(i, owner),
                    _ => (uint)owner == 0,
                };
                if (!usable)
                {
                    continue;
                }

                ulong generation = (owner >> 32) + 1 & 0xFFFF_FFFF;
                // Full fence CAS: the entry is ours alone; REGISTERING until its fields are set.
                if (Interlocked.CompareExchange(ref *entry, Registering | (generation << 32), owner) != owner)
                {
                    continue;
                }

                entry[2] = pidNamespace; // plain: published by the release below
                entry[1] = 0;
                ulong registered = pid | (generation << 32);
                Volatile.Write(ref *entry, registered); // release: pid_namespace and claim first
                return new ProducerSlot(entry + 1, i, registered);
            }
        }

        // Release, before our first claim's CAS (a full fence): the consumer then never trusts an
        // intent search, since our claims are not in the table.
        Volatile.Write(ref *_unregistered, 1u);
        ProducerTableCounts.CountUnregistered(); // made visible: the uintripc.ring.producers.unregistered instrument
        fixed (ulong* spare = _spareIntent)
        {
            return new ProducerSlot(spare, RingLayout.ProducerNone, 0); // pinned: the address outlives the fixed block
        }
    }

    /// <summary>A dead producer's entry whose last intent ends at or before head: no claim of it is left (2f).</summary>
    private bool IsReclaimable(int index, ulong owner)
    {
        uint pid = (uint)owner;
        return pid is not (0 or Registering) && IsDead(index, owner) && IsIntentConsumed(index);
    }

    /// <summary>Whether the last intent of entry <paramref name="index"/>, final for a dead or ended registration, ends at or before head.</summary>
    private bool IsIntentConsumed(int index)
    {
        ulong claim = Volatile.Read(ref Entry(index)[1]); // acquire
        ulong head = Volatile.Read(ref *_head); // acquire
        uint count = (uint)(claim >> 32);
        uint past = (uint)head - (uint)claim;
        // A start within 2^31 before head whose whole intent is behind it (never claimed: claim 0).
        return claim == 0 || (past < 1u << 31 && past >= count);
    }

    /// <summary>
    /// Whether the registration <paramref name="owner"/> of entry <paramref name="index"/> is known
    /// to be dead: same pid namespace as ours, and pidfd_open says ESRCH or its pidfd is readable.
    /// Anything unknown counts as alive. The pid is only observed, never signalled.
    /// </summary>
    private bool IsDead(int index, ulong owner)
    {
        uint pid = (uint)owner;
        if (pid == 0)
        {
            return true; // the registration ended (its ring object was closed)
        }

        if (pid == Registering || pid > int.MaxValue || (int)pid == Environment.ProcessId)
        {
            return false;
        }

        lock (_lock)
        {
            _owners ??= new OwnerState[_slots];
            ref OwnerState state = ref _owners[index];
            if (state.Owner != owner)
            {
                state.PidFd?.Dispose();
                state = new OwnerState(owner, Judge(index, owner, (int)pid, out var pidfd), pidfd);
            }

            if (!state.Dead && state.PidFd is { } handle)
            {
                state.Dead = ProcessHasExited(handle);
            }

            return state.Dead;
        }
    }

    /// <summary>First look at a registration: dead, or alive with the pidfd to watch it by (null: no way to tell).</summary>
    private bool Judge(int index, ulong owner, int pid, out SafeFdHandle? pidfd)
    {
        pidfd = null;
        ulong theirs = Volatile.Read(ref Entry(index)[2]); // acquire; written before the owner we read
        ulong ours = PidNamespace.Current;
        if (theirs == 0 || theirs != ours)
        {
            return false; // another (or an unknown) pid namespace: its pid means nothing here
        }

        int fd = Sys.PidFdOpen(pid);
        if (fd < 0)
        {
            // ESRCH: no such process. The entry still names it (checked below), so it is that producer's death.
            return Marshal.GetLastPInvokeError() == Tmds.Linux.LibC.ESRCH && Volatile.Read(ref *Entry(index)) == owner;
        }

        pidfd = new SafeFdHandle(fd, ownsHandle: true);
        return false;
    }

    /// <summary>Whether the process of <paramref name="pidfd"/> has exited (the pidfd is readable).</summary>
    private static bool ProcessHasExited(SafeFdHandle pidfd)
    {
        var poll = new Tmds.Linux.pollfd { fd = (int)pidfd.DangerousGetHandle(), events = Tmds.Linux.LibC.POLLIN };
        Tmds.Linux.timespec zero = default;
        return Sys.PPoll(&poll, 1, &zero, null) > 0;
    }

    /// <summary>A producer thread of this object: its Thread (kept, so that its managed id is not reused while the registration lives), id and entry.</summary>
    private readonly record struct Registration(Thread Thread, int ThreadId, ProducerSlot Slot);

    /// <summary>What the consumer knows of one entry's owner (pid | generation).</summary>
    private struct OwnerState(ulong owner, bool dead, SafeFdHandle? pidFd)
    {
        public readonly ulong Owner = owner;
        public bool Dead = dead;
        public readonly SafeFdHandle? PidFd = pidFd;
    }
}
