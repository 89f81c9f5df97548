using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using UintrIpc.Memory;

namespace UintrIpc.Rings;

/// <summary>
/// Room claimed in a record ring for one message, written in place through
/// <see cref="Payload"/> and then published with <see cref="Commit"/> or dropped with
/// <see cref="Abort"/>. Returned by <see cref="RecordRing.TryClaim"/>.
/// </summary>
/// <remarks>
/// <para>
/// Complete every claim exactly once, soon, and from the thread that claimed it; a second
/// <see cref="Commit"/> or <see cref="Abort"/> throws <see cref="InvalidOperationException"/>.
/// Do not complete copies of one claim separately.
/// </para>
/// <para>
/// A claim that is never completed: on an SPSC ring, nothing of it is
/// visible and the producer's next <c>TryClaim</c> or <c>TryWrite</c> discards it. On an
/// MPSC ring the consumer stops at it until
/// <see cref="RecordRing.TrySkipDeadClaim"/> removes it after its producer died (or
/// <see cref="RecordRing.TryUnblock(TimeSpan)"/> does), so wrap the writing in a
/// <c>using</c> (which aborts an unfinished claim) or try/catch and <see cref="Abort"/> on failure.
/// </para>
/// <para>Writes to <see cref="Payload"/> racing the ring's Dispose on another thread do not crash
/// the process (once the memory is released they land in a private placeholder, SafeMappingHandle);
/// the message is lost and <see cref="Commit"/> throws <see cref="ObjectDisposedException"/>.</para>
/// </remarks>
internal unsafe ref struct RecordClaim
{
    private readonly RecordRingEngine? _ring;
    private readonly byte* _record;
    private readonly long _token;
    private readonly int _recordLength;
    private readonly int _type;
    private bool _completed;
    /// <summary>The record the claim was taken in, where its completion records its use of the mapping (MappingUse); null: a channel's claim.</summary>
    private MappingUse? _use;

    internal RecordClaim(RecordRingEngine ring, byte* record, int recordLength, int type, long token)
    {
        _ring = ring;
        _record = record;
        _recordLength = recordLength;
        _type = type;
        _token = token;
    }

    /// <summary>Makes the completion record its use of the mapping in <paramref name="use"/>, the record the ring object's claim call used.</summary>
    internal void RecordIn(MappingUse use) => _use = use;

    /// <summary>The message bytes to fill, in shared memory, exactly the length that was claimed.</summary>
    /// <exception cref="InvalidOperationException">The claim is completed (or this is a default value).</exception>
    public readonly Span<byte> Payload
    {
        get
        {
            if (_ring is null || _completed)
            {
                ThrowNotOpen(_ring is null);
            }

            return new Span<byte>(_record + RingLayout.RecordHeaderSize, _recordLength - RingLayout.RecordHeaderSize);
        }
    }

    /// <summary>Bytes of the payload.</summary>
    public readonly int Length => _ring is null ? 0 : _recordLength - RingLayout.RecordHeaderSize;

    /// <summary>Whether <see cref="Commit"/> or <see cref="Abort"/> was called on this value.</summary>
    public readonly bool IsCompleted => _completed;

    /// <summary>The claim's state, so that tests can keep a claim across calls (a ref struct cannot be stored).</summary>
    internal readonly (RecordRingEngine? Ring, nint Record, int RecordLength, int Type, long Token) Parts => (_ring, (nint)_record, _recordLength, _type, _token);

    /// <summary>Rebuilds an open claim from <see cref="Parts"/> (tests).</summary>
    internal static RecordClaim FromParts((RecordRingEngine? Ring, nint Record, int RecordLength, int Type, long Token) parts)
        => parts.Ring is null ? default : new RecordClaim(parts.Ring, (byte*)parts.Record, parts.RecordLength, parts.Type, parts.Token);

    /// <summary>Makes the message visible to the consumer.</summary>
    /// <exception cref="InvalidOperationException">
    /// The claim was already completed, discarded by a later claim (SPSC), or taken over by
    /// <see cref="RecordRing.TryUnblock(TimeSpan)"/> (MPSC).
    /// </exception>
    public void Commit() => Complete(commit: true);

    /// <summary>Drops the message: its room becomes padding that the consumer skips.</summary>
    /// <exception cref="InvalidOperationException">As for <see cref="Commit"/>.</exception>
    public void Abort() => Complete(commit: false);

    /// <summary>
    /// Aborts the claim unless it was committed or aborted: <c>using</c> makes a claim
    /// exception-safe, so that a producer that throws while filling it never blocks the
    /// consumer. Decided from the ring's state, not from this value's flag, so disposing a copy
    /// (what <c>using (claim)</c> does) after committing the original changes nothing.
    /// </summary>
    public void Dispose()
    {
        if (_ring is null || _completed)
        {
            return;
        }

        _completed = true;
        using MappingUse.Call call = MappingUse.Enter(_use, _ring.Region); // the mapping stays until the padding is written
        _ring.Abandon(_record, _recordLength, _token);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Complete(bool commit)
    {
        if (_ring is null || _completed)
        {
            ThrowNotOpen(_ring is null);
        }

        // No try/finally in the producer's loop (values live into a finally are written to the frame
        // per message, design-notes "spscst", "sprec"): the completion records itself around work that
        // cannot throw, and a refusal throws after its record ended.
        int type = commit ? _type : RingLayout.PaddingRecordType;
        MappingUse? use = _use;
        if (!_ring.MultiProducer)
        {
            // SPSC: the producer role's record (a raw ring's claim; a channel's: none), two constant stores.
            use?.EnterRoleCall(); // before the disposed check: the mapping stays until the record is published
            bool completed = _ring.TryCompleteSpsc(_record, _recordLength, type, _token);
            use?.LeaveRoleCall();
            GC.KeepAlive(_ring); // the engine, its region and the record stay reachable to here
            if (!completed)
            {
                _ring.ThrowCompleteRefused();
            }
        }
        else
        {
            // MPSC: the thread's record the claim was taken in (any thread may produce).
            using MappingUse.Call call = MappingUse.Enter(use, _ring.Region); // before the disposed check: the mapping stays until the record is published
            _ring.Complete(_record, _recordLength, _type, _token, commit);
        }

        _completed = true;
    }

    /// <summary>Static: an instance call would take the claim's address, and the caller's loop would then keep the claim in its frame (a store per field per message).</summary>
    [DoesNotReturn]
    private static void ThrowNotOpen(bool noClaim)
        => throw new InvalidOperationException(noClaim
            ? "This is not a claim: use the claim returned by a successful TryClaim."
            : "The claim was already committed or aborted.");
}
