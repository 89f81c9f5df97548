using System.Runtime.CompilerServices;
using UintrIpc.Memory;

namespace UintrIpc.Rings;

/// <summary>
/// A slot taken by <c>TryClaim</c> of <see cref="SlotRing{T}"/>:
/// write the element in place through <see cref="Item"/>, then <see cref="Publish"/> it (or
/// <see cref="Abort"/>). Zero-copy: the element never exists outside shared memory.
/// </summary>
/// <typeparam name="T">The element type of the ring.</typeparam>
/// <remarks>
/// <para>The consumer cannot see the element before <see cref="Publish"/>: the publication is
/// the release store of the slot's sequence, which orders every write to <see cref="Item"/>
/// before it.</para>
/// <para>SPSC: the claim does not move the producer; at most one claim is outstanding, and a
/// claim that is neither published nor aborted is simply dropped (the next write reuses the
/// slot; publishing the old claim then throws). MPSC: the position is taken from the other
/// producers at claim time, so every claim must end in <see cref="Publish"/> or
/// <see cref="Abort"/>; a claim that is abandoned blocks the consumer at that position until it
/// calls <see cref="SlotRing{T}.TryUnblock"/>.</para>
/// <para>Writes to <see cref="Item"/> racing the ring's Dispose on another thread do not crash
/// the process (once the memory is released they land in a private placeholder, SafeMappingHandle);
/// the element is lost and <see cref="Publish"/> throws <see cref="ObjectDisposedException"/>.</para>
/// </remarks>
internal unsafe ref struct SlotClaim<T> where T : unmanaged
{
    /// <summary>The engine embedded in the ring object (a ref field keeps that object, and its lease, alive).</summary>
    private readonly ref SlotRingEngine _engine;
    private readonly byte* _slot;
    private readonly ulong _position;
    private readonly bool _multiProducer;
    /// <summary>MPSC: the engine remembers this claim as its cached thread's unmarked one (uintripc.h 2d).</summary>
    private readonly bool _unmarked;
    private bool _completed;
    /// <summary>The record the claim was taken in, where its completion records its use of the mapping (MappingUse); null: a channel's claim.</summary>
    private MappingUse? _use;

    internal SlotClaim(ref SlotRingEngine engine, byte* slot, ulong position, bool multiProducer, bool unmarked)
    {
        _engine = ref engine;
        _slot = slot;
        _position = position;
        _multiProducer = multiProducer;
        _unmarked = unmarked;
    }

    /// <summary>Makes the completion record its use of the mapping in <paramref name="use"/>, the record the ring object's claim call used.</summary>
    internal void RecordIn(MappingUse use) => _use = use;

    /// <summary>The element in the claimed slot. Its previous contents are unspecified: write every field.</summary>
    /// <exception cref="InvalidOperationException">The claim is not active.</exception>
    public readonly ref T Item
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            if (_slot == null || _completed)
            {
                SlotRingThrowHelper.ThrowClaimNotActive();
            }

            return ref Unsafe.AsRef<T>(_slot + RingLayout.SlotHeaderSize);
        }
    }

    /// <summary>The ring position of the claimed slot.</summary>
    public readonly long Position => (long)_position;

    /// <summary>Whether the claim can still be published or aborted.</summary>
    public readonly bool IsActive => _slot != null && !_completed;

    /// <summary>Makes the element visible to the consumer.</summary>
    /// <exception cref="InvalidOperationException">
    /// The claim was already published or aborted, or (SPSC) the producer wrote again since the claim.
    /// </exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Publish()
    {
        if (_slot == null || _completed)
        {
            SlotRingThrowHelper.ThrowClaimNotActive();
        }

        if (_multiProducer)
        {
            MappingUse.Call call = MappingUse.Enter(_use, _engine.Region); // before the disposed check: the mapping stays until the slot is published; ended below
            bool published = _engine.TryPublishMulti(_slot, _position, _unmarked);
            call.Dispose();
            if (!published)
            {
                SlotRingThrowHelper.ThrowDisposed(_engine.Owner);
            }

            _completed = true;
        }
        else
        {
            // SPSC: a raw ring's claim (it carries the producer role's record, which reads the mark)
            // marks its publish in the private tail, before the disposed check, so the mapping stays
            // until the slot is published; a channel's (no record) does not. No try/finally (spscst):
            // the publish throws nothing, a refusal throws after.
            bool published = _engine.TryPublishSingle(_slot, _position, marked: _use is not null);
            if (!published)
            {
                _engine.ThrowPublishRefused(_position);
            }

            _completed = true;
        }
    }

    /// <summary>
    /// Aborts the claim unless it was published or aborted: <c>using</c> makes a claim
    /// exception-safe, so that a producer that throws while filling it never blocks the
    /// consumer. Decided from the ring's state, not from this value's flag, so disposing a copy
    /// (what <c>using (claim)</c> does) after publishing the original changes nothing.
    /// </summary>
    public void Dispose()
    {
        if (_slot != null && !_completed)
        {
            _completed = true;
            using MappingUse.Call call = MappingUse.Enter(_use, _engine.Region); // the mapping stays until the skip is written
            SkipIfStillClaimed();
        }
    }

    /// <summary>
    /// Gives the claim up. SPSC: nothing is written and the slot stays free. MPSC: the slot is
    /// marked skipped so that the consumer steps over it.
    /// </summary>
    /// <exception cref="InvalidOperationException">The claim was already published or aborted.</exception>
    /// <exception cref="ObjectDisposedException">The ring was disposed.</exception>
    public void Abort()
    {
        if (_slot == null || _completed)
        {
            SlotRingThrowHelper.ThrowClaimNotActive();
        }

        using MappingUse.Call call = MappingUse.Enter(_use, _engine.Region); // before the disposed check: the mapping stays until the skip is written
        if (_multiProducer)
        {
            _engine.ThrowIfDisposed(_position, _unmarked);
        }
        else
        {
            _engine.ThrowIfDisposed();
        }

        _completed = true;
        SkipIfStillClaimed();
    }

    /// <summary>MPSC: writes the skip marker unless the slot no longer holds its previous value (uintripc.h 2d).</summary>
    private readonly void SkipIfStillClaimed()
    {
        if (_multiProducer)
        {
            _engine.SkipClaimedSlot(_position); // SPSC: nothing was published, the next claim or write reuses the slot
            if (_unmarked)
            {
                _engine.ClaimCompleted(_position); // skipped: our next claim must not mark it
            }
        }
    }
}
