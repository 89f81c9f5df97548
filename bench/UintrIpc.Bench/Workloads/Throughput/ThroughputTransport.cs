namespace UintrIpc.Bench.Workloads.Throughput;

/// <summary>What a throughput test sends its messages through.</summary>
internal enum ThroughputTransport
{
    /// <summary>SpscRing&lt;T&gt;, TryWrite / TryRead.</summary>
    SpscSlot,

    /// <summary>SpscRing&lt;T&gt;, TryWrite / Drain (batched head release).</summary>
    SpscSlotDrain,

    /// <summary>MpscRing&lt;T&gt;, TryWrite / TryRead.</summary>
    MpscSlot,

    /// <summary>SpscRecordRing, TryWrite / Read.</summary>
    SpscRecord,

    /// <summary>MpscRecordRing, TryWrite / Read.</summary>
    MpscRecord,

    /// <summary>System.IO.Pipes anonymous pipe.</summary>
    Pipe,

    /// <summary>System.Net.Sockets Unix stream socket.</summary>
    Socket,
}
