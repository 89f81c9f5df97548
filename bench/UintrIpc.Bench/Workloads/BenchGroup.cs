namespace UintrIpc.Bench.Workloads;

/// <summary>
/// Tests that run together: the C tests of a group run right before its .NET tests, so that
/// each ratio compares numbers taken close in time (the host moves the vCPUs around).
/// </summary>
internal enum BenchGroup
{
    /// <summary>Round trips with both consumers awake (spinning).</summary>
    Spinning,

    /// <summary>Round trips with consumers asleep between messages (a kernel wake-up each way).</summary>
    Sleeping,

    /// <summary>Round trips over pipes and Unix sockets.</summary>
    Kernel,

    /// <summary>One-way throughput.</summary>
    Throughput,

    /// <summary>Request/response: forwarded calls, their direct and gRPC counterparts (--rpc).</summary>
    Rpc,
}
