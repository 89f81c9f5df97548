using BenchmarkDotNet.Attributes;
using UintrIpc.Channels;
using UintrIpc.Memory;
using UintrIpc.Rings;

namespace UintrIpc.Benchmarks.Rings;

/// <summary>
/// One thread writes a message and reads it back, so the numbers are the cost of the ring
/// operations themselves (no cache-line transfer between cores): copy in/copy out
/// (TryWrite + TryRead) against in-place (TryClaim + Commit, then Read with a handler that
/// looks at the payload where it lies), for SPSC and MPSC. Expect 0 B allocated.
/// </summary>
[MemoryDiagnoser]
[BenchmarkCategory("Rings")]
public class RecordRingBenchmarks
{
    private const int Operations = 1000;
    private const int Capacity = 1 << 20;

    private SharedRegion _region = null!;
    private RecordRing _spsc = null!;
    private RecordRing _mpsc = null!;
    private byte[] _payload = null!;
    private byte[] _buffer = null!;

    /// <summary>Payload bytes per message.</summary>
    [Params(8, 64, 256, 4096)]
    public int PayloadSize { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        // Tags: a region with an SPSC and an MPSC record ring of the same tag is refused at attach.
        _region = SharedRegion.CreateAnonymous(RecordRing.Part(Capacity, tag: 1), RecordRing.Part(Capacity, multipleProducers: true, tag: 2));
        _spsc = new RecordRing(_region, tag: 1);
        _mpsc = new RecordRing(_region, tag: 2);
        _payload = new byte[PayloadSize];
        Random.Shared.NextBytes(_payload);
        _buffer = new byte[PayloadSize];
    }

    [GlobalCleanup]
    public void Cleanup() => _region.Dispose();

    [Benchmark(Baseline = true, OperationsPerInvoke = Operations)]
    public int SpscWriteThenTryRead()
    {
        int total = 0;
        for (int i = 0; i < Operations; i++)
        {
            _spsc.TryWrite(1, _payload);
            _spsc.TryRead(out _, _buffer, out int length);
            total += length;
        }

        return total;
    }

    [Benchmark(OperationsPerInvoke = Operations)]
    public long SpscClaimCommitThenRead()
    {
        var handler = new SumHandler();
        for (int i = 0; i < Operations; i++)
        {
            if (_spsc.TryClaim(1, PayloadSize, out var claim))
            {
                _payload.CopyTo(claim.Payload);
                claim.Commit();
            }

            _spsc.Read(ref handler);
        }

        return handler.Sum;
    }

    [Benchmark(OperationsPerInvoke = Operations)]
    public int MpscWriteThenTryRead()
    {
        int total = 0;
        for (int i = 0; i < Operations; i++)
        {
            _mpsc.TryWrite(1, _payload);
            _mpsc.TryRead(out _, _buffer, out int length);
            total += length;
        }

        return total;
    }

    [Benchmark(OperationsPerInvoke = Operations)]
    public long MpscClaimCommitThenRead()
    {
        var handler = new SumHandler();
        for (int i = 0; i < Operations; i++)
        {
            if (_mpsc.TryClaim(1, PayloadSize, out var claim))
            {
                _payload.CopyTo(claim.Payload);
                claim.Commit();
            }

            _mpsc.Read(ref handler);
        }

        return handler.Sum;
    }

    /// <summary>Reads the payload in place (first and last byte), as a zero-copy consumer would.</summary>
    private struct SumHandler : IRecordHandler
    {
        public long Sum;

        public void Handle(int type, ReadOnlySpan<byte> payload)
            => Sum += type + payload.Length + (payload.IsEmpty ? 0 : payload[0] + payload[^1]);
    }
}
