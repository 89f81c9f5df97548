using BenchmarkDotNet.Attributes;
using UintrIpc.Memory;
using UintrIpc.Signaling;

namespace UintrIpc.Benchmarks.Signaling;

// Single-thread costs of the wake-up protocol on its paths that need no system call: what a
// producer pays per message while the consumer is awake (a full fence, one load, a counter),
// and what a consumer pays to announce a sleep and find work on the final probe (two locked
// exchanges). The cross-process costs (a real wake-up) are measured by bench/UintrIpc.Bench.

/// <summary>WaitBlock.WakeIfSleeping and WaitBlock.Park on their fast paths.</summary>
[MemoryDiagnoser]
public class WakeProtocolBenchmarks
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromMilliseconds(100);
    private SharedRegion _region = null!;
    private WaitBlock _single = null!;
    private WaitBlock _shared = null!;
    private FutexDoorbellSender _sender = null!;
    private FutexDoorbellReceiver _receiver = null!;
    private WorkPending _probe;

    [GlobalSetup]
    public void Setup()
    {
        _region = SharedRegion.CreateAnonymous(WaitBlock.Part(0), WaitBlock.Part(1));
        _single = new WaitBlock(_region, 0u, singleProducer: true);
        _shared = new WaitBlock(_region, 1u, singleProducer: false);
        _sender = new FutexDoorbellSender(_single);
        _receiver = new FutexDoorbellReceiver(_single);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _receiver.Dispose();
        _sender.Dispose();
        _region.Dispose();
    }

    /// <summary>Producer, one producer, consumer awake: fence + load + plain counter store.</summary>
    [Benchmark(Baseline = true)]
    public void WakeIfSleepingAwakeSingleProducer() => _single.WakeIfSleeping(_sender);

    /// <summary>Producer, several producers, consumer awake: fence + load + atomic counter increment.</summary>
    [Benchmark]
    public void WakeIfSleepingAwakeMultiProducer() => _shared.WakeIfSleeping(_sender);

    /// <summary>Consumer: announce the sleep, find work on the final probe, end the sleep (no system call).</summary>
    [Benchmark]
    public bool ParkWorkArrivedBeforeBlocking() => _single.Park(ref _probe, _receiver, s_timeout);

    private struct WorkPending : IWaitProbe
    {
        public readonly bool HasWork => true;
    }
}
