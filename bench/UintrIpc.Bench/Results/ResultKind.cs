namespace UintrIpc.Bench.Results;

/// <summary>What a result measures.</summary>
internal enum ResultKind
{
    /// <summary>Round trips between two processes (ping-pong), nanoseconds.</summary>
    Latency,

    /// <summary>One-way messages per second.</summary>
    Throughput,
}
