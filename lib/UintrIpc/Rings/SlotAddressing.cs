using System.Runtime.CompilerServices;

namespace UintrIpc.Rings;

/// <summary>
/// Where a slot ring's slots are (uintripc.h 2d: slot i at data + i * pitch), copied into a local
/// (or a batch's field) by the code that addresses many slots. Read through the engine instead,
/// the loops reloaded the three fields for every slot: a store through a slot pointer may alias
/// the engine's fields, and a volatile access keeps later loads after it, so the JIT cannot keep
/// them in registers; a local it can.
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
