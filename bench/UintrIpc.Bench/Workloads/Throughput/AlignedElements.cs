using System.Runtime.CompilerServices;

namespace UintrIpc.Bench.Workloads.Throughput;

/// <summary>
/// A producer's source or a consumer's destination elements, 64-byte aligned as the C baseline's
/// (aligned_alloc(64, ...)). An array of T is only 8-byte aligned, so a 64-byte element's copy
/// to or from it crossed a cache line on most messages, a cost the C harness does not pay.
/// The array is pinned (allocated on the pinned object heap), so the pointer stays valid for
/// as long as this object lives; the ports hold it.
/// </summary>
internal sealed unsafe class AlignedElements<T> where T : unmanaged
{
    private const int Alignment = 64;
    private readonly byte[] _storage;
    private readonly T* _first;

    public AlignedElements(int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        Length = count;
        _storage = GC.AllocateArray<byte>((count * sizeof(T)) + Alignment, pinned: true);
        nuint start = (nuint)Unsafe.AsPointer(ref _storage[0]);
        _first = (T*)((start + Alignment - 1) & ~(nuint)(Alignment - 1));
    }

    public int Length { get; }

    /// <summary>The first element (the whole buffer of a single-message port).</summary>
    public ref T First
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => ref *_first;
    }

    /// <summary>All the elements (a record port's whole message).</summary>
    public Span<T> All
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => new(_first, Length);
    }

    /// <summary>The first <paramref name="count"/> elements.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Span<T> Slice(int count)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)count, (uint)Length, nameof(count));
        return new Span<T>(_first, count);
    }
}
