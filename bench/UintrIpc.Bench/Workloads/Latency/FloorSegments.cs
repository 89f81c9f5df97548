namespace UintrIpc.Bench.Workloads.Latency;

/// <summary>
/// A round trip measured in <see cref="Count"/> segments, each next to a short run of its C tests
/// (the floor), so that a switch of the host's mode (it moves the vCPUs: the one-line floor reads
/// 0.12 or 0.4 us for seconds to minutes) hits both sides of a segment's ratio, not one side of a
/// whole pair. Segment k runs the C tests first when <see cref="FloorFirst"/>, else after it
/// (ABBA within the pair); while they run, the echoer holds without a CPU (<see cref="PingPong.Hold"/>).
/// </summary>
/// <param name="Count">Segments per pair (at least 1).</param>
/// <param name="CFirstAtEvenSegments">Whether even segments (0, 2, ...) run the C tests first; odd ones then run them after.</param>
/// <param name="RunFloor">Runs the C tests of segment k (0-based) for the given number of round trips.</param>
internal sealed record FloorSegments(int Count, bool CFirstAtEvenSegments, Action<int, long> RunFloor)
{
    /// <summary>Whether segment <paramref name="k"/> runs its C tests before its .NET round trips.</summary>
    public bool FloorFirst(int k) => (k % 2 == 0) == CFirstAtEvenSegments;

    /// <summary>Segment <paramref name="k"/>'s share of <paramref name="total"/> samples: (start, length), the remainder spread over the first ones.</summary>
    public static (int Start, int Length) Range(int k, int count, int total)
    {
        int size = total / count, extra = total % count;
        return ((k * size) + Math.Min(k, extra), size + (k < extra ? 1 : 0));
    }
}
