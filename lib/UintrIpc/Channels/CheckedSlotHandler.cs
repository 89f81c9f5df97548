using System.Runtime.CompilerServices;
using UintrIpc.Rings;

namespace UintrIpc.Channels;

/// <summary>
/// Verifies each element's checksum (uintripc.h 4a: the last 4 bytes of its slot) before the
/// inner handler sees it. Only channels created with checksums use it, so the unchecked path is
/// the plain handler with nothing added.
/// </summary>
/// <typeparam name="T">The element type.</typeparam>
/// <typeparam name="THandler">The handler the verified elements go to, held by value: copy it back after the drain.</typeparam>
internal unsafe ref struct CheckedSlotHandler<T, THandler>(THandler inner, nuint checksumOffset) : ISlotHandler<T>
    where T : unmanaged
    where THandler : struct, ISlotHandler<T>, allows ref struct
{
    /// <summary>The wrapped handler (its state after the drain).</summary>
    public THandler Inner = inner;

    /// <summary>Bytes from the element to its checksum: slot_size - 8 - 4.</summary>
    private readonly nuint _checksumOffset = checksumOffset;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Handle(in T item)
    {
        // The element is in the slot (unmanaged memory, no GC move); both reads are plain, ordered
        // after the sequence's acquire like the element itself.
        byte* element = (byte*)Unsafe.AsPointer(ref Unsafe.AsRef(in item));
        uint stored = Unsafe.ReadUnaligned<uint>(element + _checksumOffset);
        uint computed = MessageChecksum.Compute(element, (nuint)sizeof(T));
        if (computed != stored)
        {
            Mismatch(stored, computed);
        }

        Inner.Handle(in item);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Mismatch(uint stored, uint computed)
        => throw new ChecksumMismatchException($"the slot holds 0x{stored:x8} but its element's CRC-32C is 0x{computed:x8}; the element was dropped", 1);
}
