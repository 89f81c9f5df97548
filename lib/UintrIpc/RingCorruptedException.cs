using UintrIpc.Metrics;

namespace UintrIpc;

/// <summary>
/// A value read from a ring in shared memory breaks the ring's invariants: the peer is
/// buggy, hostile, or uses another layout. The ring did not read or write out of bounds;
/// it should be abandoned (its data cannot be trusted any more).
/// </summary>
public sealed class RingCorruptedException : UintrIpcException
{
    /// <summary>Creates the exception.</summary>
    public RingCorruptedException(string what, long position, string detail)
        : base($"Ring corrupted at position {position}: {what}: {detail}.")
    {
        ErrorCounts.CountRingCorrupted(); // the uintripc.errors instrument
        What = what;
        Position = position;
    }

    /// <summary>The field or record that failed validation.</summary>
    public string What { get; }

    /// <summary>The ring position (slot or byte) where it was found.</summary>
    public long Position { get; }
}
