using System.Runtime.CompilerServices;

namespace UintrIpc.Bench.Workloads.Throughput;

// Fixed-size elements for the slot-ring throughput tests, one per size of the C baseline
// (8, 64, 256, 1024, 4096 bytes). The first 8 bytes carry the MessageHeader.

#pragma warning disable CA1823, IDE0044, IDE0051 // the element fields only give the structs their size

/// <summary>8-byte element.</summary>
[InlineArray(1)]
internal struct Msg8
{
    private long _e;
}

/// <summary>64-byte element.</summary>
[InlineArray(8)]
internal struct Msg64
{
    private long _e;
}

/// <summary>256-byte element.</summary>
[InlineArray(32)]
internal struct Msg256
{
    private long _e;
}

/// <summary>1 KiB element.</summary>
[InlineArray(128)]
internal struct Msg1024
{
    private long _e;
}

/// <summary>4 KiB element.</summary>
[InlineArray(512)]
internal struct Msg4096
{
    private long _e;
}
#pragma warning restore CA1823, IDE0044, IDE0051
