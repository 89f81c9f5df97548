using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace UintrIpc.Tests.Rings;

/// <summary>A stress-test message: who wrote it and its number in that producer's stream.</summary>
public readonly record struct StressMessage(int ProducerId, int Sequence, long Check)
{
    public static StressMessage Create(int producerId, int sequence) => new(producerId, sequence, Mix(producerId, sequence));

    /// <summary>Whether the payload is intact (a torn or stale read breaks it).</summary>
    public bool IsIntact => Check == Mix(ProducerId, Sequence);

    private static long Mix(int producerId, int sequence) => unchecked(((long)producerId * 0x1E3779B97F4A7C15L) ^ ((long)sequence * 0x632BE59BD9B4E019L) ^ 0x5555);
}

/// <summary>An element whose size (12) is not a multiple of 8: the slot is padded to 24.</summary>
[StructLayout(LayoutKind.Sequential)]
public readonly record struct OddSized(int A, int B, int C);

/// <summary>A 256-byte element: the element spans several cache lines.</summary>
public struct Wide
{
    private Padding _padding;

    public Wide(long value)
    {
        _padding[0] = value;
        _padding[^1] = ~value;
    }

    public readonly long First => _padding[0];

    public readonly long Last => _padding[^1];

    [InlineArray(32)]
    private struct Padding
    {
        private long _element;
    }
}
