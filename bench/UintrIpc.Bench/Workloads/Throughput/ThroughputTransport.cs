namespace UintrIpc.Bench.Workloads.Throughput;

/// <summary>What a throughput test sends its messages through.</summary>
internal enum ThroughputTransport
{
    /// <summary>SpscRing&lt;T&gt;.</summary>
    SpscSlot,

    /// <summary>MpscRing&lt;T&gt;.</summary>
    MpscSlot,

    /// <summary>SpscRecordRing.</summary>
    SpscRecord,

    /// <summary>MpscRecordRing.</summary>
    MpscRecord,

    /// <summary>System.IO.Pipes anonymous pipe.</summary>
    Pipe,

    /// <summary>System.Net.Sockets Unix stream socket.</summary>
    Socket,
}
