namespace UintrIpc.Bench.Workloads.Throughput;

/// <summary>
/// One throughput setting: transport, message size, producer processes, ring capacity in
/// slots (record rings get the bytes of as many slots, see <see cref="ThroughputRun.RecordCapacity"/>)
/// whether both ends move messages in batches, and whether the ring's consumer runs in a child of its own
/// (else in the harness process).
/// </summary>
internal readonly record struct ThroughputSpec(ThroughputTransport Transport, int Size, int Producers, int Capacity, bool Batched, bool ConsumerInChild = false)
{
    public bool IsRing => Transport is not (ThroughputTransport.Pipe or ThroughputTransport.Socket);

    public bool IsRecord => Transport is ThroughputTransport.SpscRecord or ThroughputTransport.MpscRecord;

    public bool IsMultiProducer => Transport is ThroughputTransport.MpscSlot or ThroughputTransport.MpscRecord;
}
