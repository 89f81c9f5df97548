using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using BenchmarkDotNet.Attributes;
using UintrIpc.Channels;
using UintrIpc.Memory;
using UintrIpc.Rings;

namespace UintrIpc.Benchmarks.Rings;

// Single-thread costs of the slot rings: a write followed by a read (the ring never fills),
// one element at a time and in batches of 32. No cross-core traffic, so this measures the
// instruction path, not the cache-line transfer; ConcurrentQueue<T> is the in-process
// baseline. [MemoryDiagnoser] proves the ring paths allocate nothing.

/// <summary>SPSC slot ring: TryWrite+TryRead pairs and batches, single thread.</summary>
[MemoryDiagnoser]
[GenericTypeArguments(typeof(Payload8))]
[GenericTypeArguments(typeof(Payload64))]
[GenericTypeArguments(typeof(Payload256))]
public class SpscSlotRingBenchmarks<T> where T : unmanaged
{
    private const int Operations = 1024;
    private const int BatchSize = 32;

    private readonly T[] _batch = new T[BatchSize];
    private SharedRegion _region = null!;
    private SlotRing<T> _ring = null!;
    private ConcurrentQueue<T> _queue = null!;
    private T _item;

    [GlobalSetup]
    public void Setup()
    {
        _region = SharedRegion.CreateAnonymous(SlotRing<T>.Part(1024));
        _ring = new SlotRing<T>(_region);
        _queue = new ConcurrentQueue<T>();
    }

    [GlobalCleanup]
    public void Cleanup() => _region.Dispose();

    [Benchmark(Baseline = true, OperationsPerInvoke = Operations)]
    public void ConcurrentQueueEnqueueTryDequeue()
    {
        for (int i = 0; i < Operations; i++)
        {
            _queue.Enqueue(_item);
            _queue.TryDequeue(out _item);
        }
    }

    [Benchmark(OperationsPerInvoke = Operations)]
    public void TryWriteTryRead()
    {
        for (int i = 0; i < Operations; i++)
        {
            _ring.TryWrite(_item);
            _ring.TryRead(out _item);
        }
    }

    [Benchmark(OperationsPerInvoke = Operations)]
    public void TryWriteTryReadBatch32()
    {
        for (int i = 0; i < Operations; i += BatchSize)
        {
            _ring.TryWrite(_batch);
            _ring.TryRead(_batch);
        }
    }

    [Benchmark(OperationsPerInvoke = Operations)]
    public long ClaimPublishDrain32()
    {
        var handler = new SumHandler<T>();
        for (int i = 0; i < Operations; i += BatchSize)
        {
            for (int j = 0; j < BatchSize; j++)
            {
                _ring.TryClaim(out SlotClaim<T> claim);
                claim.Item = _item;
                claim.Publish();
            }

            _ring.Drain(ref handler);
        }

        return handler.Count;
    }
}

/// <summary>MPSC slot ring (one CAS per write or batch): TryWrite+TryRead pairs and batches, single thread.</summary>
[MemoryDiagnoser]
[GenericTypeArguments(typeof(Payload8))]
[GenericTypeArguments(typeof(Payload64))]
[GenericTypeArguments(typeof(Payload256))]
public class MpscSlotRingBenchmarks<T> where T : unmanaged
{
    private const int Operations = 1024;
    private const int BatchSize = 32;

    private readonly T[] _batch = new T[BatchSize];
    private SharedRegion _region = null!;
    private SlotRing<T> _ring = null!;
    private ConcurrentQueue<T> _queue = null!;
    private T _item;

    [GlobalSetup]
    public void Setup()
    {
        _region = SharedRegion.CreateAnonymous(SlotRing<T>.Part(1024, multipleProducers: true));
        _ring = new SlotRing<T>(_region);
        _queue = new ConcurrentQueue<T>();
    }

    [GlobalCleanup]
    public void Cleanup() => _region.Dispose();

    [Benchmark(Baseline = true, OperationsPerInvoke = Operations)]
    public void ConcurrentQueueEnqueueTryDequeue()
    {
        for (int i = 0; i < Operations; i++)
        {
            _queue.Enqueue(_item);
            _queue.TryDequeue(out _item);
        }
    }

    [Benchmark(OperationsPerInvoke = Operations)]
    public void TryWriteTryRead()
    {
        for (int i = 0; i < Operations; i++)
        {
            _ring.TryWrite(_item);
            _ring.TryRead(out _item);
        }
    }

    [Benchmark(OperationsPerInvoke = Operations)]
    public void TryWriteTryReadBatch32()
    {
        for (int i = 0; i < Operations; i += BatchSize)
        {
            _ring.TryWrite(_batch);
            _ring.TryRead(_batch);
        }
    }

    [Benchmark(OperationsPerInvoke = Operations)]
    public long ClaimPublishDrain32()
    {
        var handler = new SumHandler<T>();
        for (int i = 0; i < Operations; i += BatchSize)
        {
            for (int j = 0; j < BatchSize; j++)
            {
                _ring.TryClaim(out SlotClaim<T> claim);
                claim.Item = _item;
                claim.Publish();
            }

            _ring.Drain(ref handler);
        }

        return handler.Count;
    }
}

/// <summary>Counts drained elements (touching each one so the read is not optimised away).</summary>
internal struct SumHandler<T> : ISlotHandler<T> where T : unmanaged
{
    public long Count;

    public void Handle(in T item) => Count += Unsafe.As<T, byte>(ref Unsafe.AsRef(in item)) + 1;
}
