using System.Runtime.CompilerServices;

namespace UintrIpc.Rings;

/// <summary>
/// Where a slot ring's slots are (uintripc.h 2d: slot i at data + i * pitch), copied out of the
/// engine by a <see cref="Channels.SlotBatch{T}"/>, whose indexer runs per element: from a copy
/// the JIT keeps in registers, not through the engine's fields, which a store through a slot
/// pointer may alias (so they are reloaded per element).
/// </summary>
internal readonly unsafe struct SlotAddressing
{
    private readonly byte* _data;
    private readonly ulong _mask;
    private readonly nuint _pitch;

    internal SlotAddressing(byte* data, ulong mask, nuint pitch)
    {
        _data = data;
        _mask = mask;
        _pitch = pitch;
    }

    /// <summary>Address of the slot of <paramref name="position"/> (its sequence word; the element follows).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal byte* SlotAt(ulong position) => _data + ((nuint)(position & _mask) * _pitch);
}
