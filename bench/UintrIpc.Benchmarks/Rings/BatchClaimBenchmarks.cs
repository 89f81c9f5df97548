using BenchmarkDotNet.Attributes;
using UintrIpc.Channels;
using UintrIpc.Memory;
using UintrIpc.Rings;

namespace UintrIpc.Benchmarks.Rings;

// Batched in-place claims against the copying span write, 32 elements of 64 bytes per batch,
// single thread (write a batch, then drain it): the instruction path of one batch, per element.
// Ring and channel (the channel adds the completion check and one wake-up check per batch).
// [MemoryDiagnoser] shows the batched paths allocate nothing.

/// <summary>Slot rings and slot channels: TryWrite(span) vs TryClaim(count) + indexer + Publish, then Drain.</summary>
[MemoryDiagnoser]
public class SlotBatchBenchmarks
{
    private const int Operations = 1024;
    private const int BatchSize = 32;

    private readonly Payload64[] _batch = new Payload64[BatchSize];
    private SharedRegion _region = null!;
    private SlotRing<Payload64> _ring = null!;
    private IpcChannel<Payload64> _channel = null!;
    private IpcChannelWriter<Payload64> _writer = null!;
    private IpcChannelReader<Payload64> _reader = null!;

    /// <summary>MPSC ring and multi-writer channel (one CAS per batch) rather than SPSC.</summary>
    [Params(false, true)]
    public bool Mpsc { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _region = SharedRegion.CreateAnonymous(SlotRing<Payload64>.Part(1024, Mpsc));
        _ring = new SlotRing<Payload64>(_region);
        _channel = IpcChannel.CreateBounded<Payload64>(new IpcChannelOptions { Capacity = 1024, MultipleWriters = Mpsc, Doorbell = DoorbellKind.Futex });
        _reader = _channel.Reader;
        _writer = _channel.Writer;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _ring.Dispose();
        _region.Dispose();
        _channel.Dispose();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Operations)]
    public long RingTryWriteSpan32()
    {
        var handler = new SumHandler<Payload64>();
        for (int i = 0; i < Operations; i += BatchSize)
        {
            _ring.TryWrite(_batch);
            _ring.Drain(ref handler);
        }

        return handler.Count;
    }

    [Benchmark(OperationsPerInvoke = Operations)]
    public long RingClaimBatch32()
    {
        var handler = new SumHandler<Payload64>();
        for (int i = 0; i < Operations; i += BatchSize)
        {
            _ring.TryClaim(BatchSize, out SlotBatch<Payload64> batch);
            for (int j = 0; j < batch.Count; j++)
            {
                batch[j] = _batch[j];
            }

            batch.Publish();
            _ring.Drain(ref handler);
        }

        return handler.Count;
    }

    [Benchmark(OperationsPerInvoke = Operations)]
    public long ChannelTryWriteSpan32()
    {
        var handler = new SumHandler<Payload64>();
        for (int i = 0; i < Operations; i += BatchSize)
        {
            _writer.TryWrite(_batch);
            _reader.Drain(ref handler);
        }

        return handler.Count;
    }

    [Benchmark(OperationsPerInvoke = Operations)]
    public long ChannelClaimBatch32()
    {
        var handler = new SumHandler<Payload64>();
        for (int i = 0; i < Operations; i += BatchSize)
        {
            _writer.TryClaim(BatchSize, out SlotBatch<Payload64> batch);
            for (int j = 0; j < batch.Count; j++)
            {
                batch[j] = _batch[j];
            }

            batch.Publish();
            _reader.Drain(ref handler);
        }

        return handler.Count;
    }
}

/// <summary>Record rings and message channels: 32 TryWrite calls vs one TryClaimBatch + 32 TryAppend (or one run of 32) + Commit, then Read.</summary>
[MemoryDiagnoser]
public class RecordBatchBenchmarks
{
    private const int Operations = 1024;
    private const int BatchSize = 32;

    private byte[] _payload = null!;

    /// <summary>Payload bytes per message: 8 (a stamp alone, where per-record work dominates) and 64.</summary>
    [Params(8, 64)]
    public int Length { get; set; }
    private SharedRegion _region = null!;
    private RecordRing _ring = null!;
    private IpcMessageChannel _channel = null!;
    private IpcMessageWriter _writer = null!;
    private IpcMessageReader _reader = null!;

    /// <summary>MPSC ring and multi-writer channel rather than SPSC.</summary>
    [Params(false, true)]
    public bool Mpsc { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _payload = new byte[Length];
        _region = SharedRegion.CreateAnonymous(RecordRing.Part(64 * 1024, multipleProducers: Mpsc));
        _ring = new RecordRing(_region);
        _channel = IpcChannel.CreateMessages(new IpcChannelOptions { BufferSize = 64 * 1024, MaxMessageLength = 256, MultipleWriters = Mpsc, Doorbell = DoorbellKind.Futex });
        _reader = _channel.Reader;
        _writer = _channel.Writer;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _ring.Dispose();
        _region.Dispose();
        _channel.Dispose();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Operations)]
    public long RingTryWrite32()
    {
        var handler = new LengthHandler();
        for (int i = 0; i < Operations; i += BatchSize)
        {
            for (int j = 0; j < BatchSize; j++)
            {
                _ring.TryWrite(1, _payload);
            }

            _ring.Read(ref handler);
        }

        return handler.Sum;
    }

    [Benchmark(OperationsPerInvoke = Operations)]
    public long RingClaimBatch32()
    {
        var handler = new LengthHandler();
        for (int i = 0; i < Operations; i += BatchSize)
        {
            _ring.TryClaimBatch(BatchSize * (Length + 8), out RecordBatch batch);
            while (batch.TryAppend(1, Length, out Span<byte> payload))
            {
                _payload.CopyTo(payload);
            }

            batch.Commit();
            _ring.Read(ref handler);
        }

        return handler.Sum;
    }

    [Benchmark(OperationsPerInvoke = Operations)]
    public long RingRun32()
    {
        var handler = new LengthHandler();
        for (int i = 0; i < Operations; i += BatchSize)
        {
            _ring.TryClaimBatch(BatchSize * (Length + 8), out RecordBatch batch);
            AppendRun(ref batch, Length, _payload);
            batch.Commit();
            _ring.Read(ref handler);
        }

        return handler.Sum;
    }

    [Benchmark(OperationsPerInvoke = Operations)]
    public long ChannelTryWrite32()
    {
        var handler = new LengthHandler();
        for (int i = 0; i < Operations; i += BatchSize)
        {
            for (int j = 0; j < BatchSize; j++)
            {
                _writer.TryWrite(1, _payload);
            }

            _reader.Read(ref handler);
        }

        return handler.Sum;
    }

    [Benchmark(OperationsPerInvoke = Operations)]
    public long ChannelClaimBatch32()
    {
        var handler = new LengthHandler();
        for (int i = 0; i < Operations; i += BatchSize)
        {
            _writer.TryClaimBatch(BatchSize * (Length + 8), out RecordBatch batch);
            while (batch.TryAppend(1, Length, out Span<byte> payload))
            {
                _payload.CopyTo(payload);
            }

            batch.Commit();
            _reader.Read(ref handler);
        }

        return handler.Sum;
    }

    [Benchmark(OperationsPerInvoke = Operations)]
    public long ChannelRun32()
    {
        var handler = new LengthHandler();
        for (int i = 0; i < Operations; i += BatchSize)
        {
            _writer.TryClaimBatch(BatchSize * (Length + 8), out RecordBatch batch);
            AppendRun(ref batch, Length, _payload);
            batch.Commit();
            _reader.Read(ref handler);
        }

        return handler.Sum;
    }

    private static void AppendRun(ref RecordBatch batch, int length, byte[] payload)
    {
        if (!batch.TryAppend(1, length, BatchSize, out RecordRun run))
        {
            throw new InvalidOperationException("the claimed range holds no run of 32");
        }

        for (int j = 0; j < run.Count; j++)
        {
            payload.CopyTo(run[j]);
        }
    }

    private struct LengthHandler : IRecordHandler
    {
        public long Sum;

        public void Handle(int type, ReadOnlySpan<byte> payload) => Sum += payload.Length + payload[0];
    }
}
