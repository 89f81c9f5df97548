namespace UintrIpc.Bench.Workloads.Throughput;

/// <summary>The producer's end of a throughput transport (a struct, so the loop is specialised per transport).</summary>
internal interface IProducerPort
{
    /// <summary>
    /// Writes up to <paramref name="max"/> messages (a single-message port writes one) whose
    /// first 8 bytes are the headers of <paramref name="firstSequence"/>, +1, ...; returns how
    /// many, 0 when the ring is full (streams block instead).
    /// </summary>
    int TryWrite(int producer, long firstSequence, int max, bool warm);
}

/// <summary>The consumer's end of a throughput transport.</summary>
internal interface IConsumerPort
{
    /// <summary>Consumes what is waiting (one message, or a batch), copying each payload out and handing its header to <paramref name="checker"/>; returns how many.</summary>
    int Poll(ref MessageChecker checker);
}

/// <summary>How many messages a batched port writes or reads per call (the C baseline's --batch).</summary>
internal static class Batch
{
    public const int Size = 64;
}
