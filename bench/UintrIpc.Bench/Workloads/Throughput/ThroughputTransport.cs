namespace UintrIpc.Bench.Workloads.Throughput;

/// <summary>What a throughput test sends its messages through.</summary>
internal enum ThroughputTransport
{
    /// <summary>SlotRing&lt;T&gt;. (SPSC)</summary>
    SpscSlot,

    /// <summary>SlotRing&lt;T&gt;. (MPSC)</summary>
    MpscSlot,

    /// <summary>RecordRing.</summary>
    SpscRecord,

    /// <summary>RecordRing.</summary>
    MpscRecord,

    /// <summary>System.IO.Pipes anonymous pipe.</summary>
    Pipe,

    /// <summary>System.Net.Sockets Unix stream socket.</summary>
    Socket,
}
