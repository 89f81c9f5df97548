using System.Runtime.CompilerServices;

namespace UintrIpc.Rings;

/// <summary>
/// The values MPSC producers write to say "claimed by me" (uintripc.h 2d, 2e, 2f): the intent
/// stored before a claim CAS, the claimed marker of an in-place slot claim, and the type word of
/// a claimed record header. A tag is (generation &amp; 0x3fffff) &lt;&lt; 8 | entry index.
/// </summary>
internal static class ClaimMarker
{
    private const uint GenerationMask = 0x3F_FFFF;

    /// <summary>The tag of entry <paramref name="index"/> registered as <paramref name="owner"/>.</summary>
    internal static uint Tag(int index, ulong owner) => (Generation(owner) << 8) | (uint)index;

    /// <summary>The low 22 bits of an owner word's generation, as tags carry them.</summary>
    internal static uint Generation(ulong owner) => (uint)(owner >> 32) & GenerationMask;

    /// <summary>The generation bits of a tag.</summary>
    internal static uint GenerationOf(uint tag) => (tag >> 8) & GenerationMask;

    /// <summary>An intent that covers nothing: no claim attempt outstanding (as a new registration's).</summary>
    internal const ulong NoIntent = 0;

    /// <summary>The intent of a claim CAS tail <paramref name="start"/> -> start + <paramref name="count"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ulong Intent(ulong start, ulong count) => (uint)start | (count << 32);

    /// <summary>The sequence of a slot claimed for in-place writing at <paramref name="position"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ulong ForSlot(uint tag, ulong position) => RingLayout.SlotClaimed | ((ulong)tag << 32) | (uint)(position + 1);

    /// <summary>Whether <paramref name="sequence"/> is a claimed marker for <paramref name="position"/>.</summary>
    internal static bool IsSlotMarker(ulong sequence, ulong position)
        => (sequence & (RingLayout.SlotSkipped | RingLayout.SlotClaimed)) == RingLayout.SlotClaimed && (uint)sequence == (uint)(position + 1);

    /// <summary>The tag of a slot's claimed marker.</summary>
    internal static uint TagOfSlot(ulong sequence) => (uint)(sequence >> 32) & 0x3FFF_FFFF;

    /// <summary>The type word of a claimed record header.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int ForRecord(uint tag) => unchecked((int)(0x8000_0000u | tag));

    /// <summary>Whether a claimed record header's type word is a marker (not yet the message type, nor padding).</summary>
    internal static bool IsRecordMarker(int type) => ((uint)type & 0xC000_0000u) == 0x8000_0000u;

    /// <summary>The tag of a claimed record header's type word.</summary>
    internal static uint TagOfRecord(int type) => (uint)type & 0x3FFF_FFFF;
}
