namespace UintrIpc.Bench.Workloads.Throughput;

/// <summary>The producer's end of a throughput transport (a struct, so the loop is specialised per transport).</summary>
internal interface IProducerPort
{
    /// <summary>Writes one message whose first 8 bytes are <paramref name="header"/>; false when the ring is full (streams block instead).</summary>
    bool TryWrite(long header);
}

/// <summary>The consumer's end of a throughput transport.</summary>
internal interface IConsumerPort
{
    /// <summary>Consumes what is waiting (up to a batch), copying each payload out and handing its header to <paramref name="checker"/>; returns how many.</summary>
    int Poll(ref MessageChecker checker);
}
