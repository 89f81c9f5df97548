namespace UintrIpc.TestPeer.Commands;

/// <summary>
/// The byte pattern one side of a region test writes and the other checks: depends on the
/// seed and on every byte's position, so a shifted, truncated or stale copy does not match.
/// </summary>
public static class RegionPattern
{
    /// <summary>The expected byte at <paramref name="index"/> for <paramref name="seed"/>.</summary>
    public static byte At(int seed, long index) => unchecked((byte)((seed * 131) + (index * 31) + (index >> 8)));

    /// <summary>Fills <paramref name="bytes"/> with the pattern.</summary>
    public static void Fill(Span<byte> bytes, int seed)
    {
        for (int i = 0; i < bytes.Length; i++)
        {
            bytes[i] = At(seed, i);
        }
    }

    /// <summary>Index of the first byte that differs from the pattern, or -1.</summary>
    public static long FirstMismatch(ReadOnlySpan<byte> bytes, int seed)
    {
        for (int i = 0; i < bytes.Length; i++)
        {
            if (bytes[i] != At(seed, i))
            {
                return i;
            }
        }

        return -1;
    }
}
