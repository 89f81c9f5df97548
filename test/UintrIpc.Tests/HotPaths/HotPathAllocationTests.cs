using UintrIpc.Channels;
using UintrIpc.Memory;
using UintrIpc.Rings;
using UintrIpc.Signaling;

namespace UintrIpc.Tests.HotPaths;

/// <summary>
/// The per-message paths allocate nothing: ring writes, claims, reads, drains, and the wake-up
/// protocol while the consumer is awake. Counted on this thread (GC.GetAllocatedBytesForCurrentThread)
/// over many operations after a warm-up, so one allocation per message would show as thousands
/// of bytes. The quick CI check of the zero-allocation claim (.ci/run runs these tests in
/// Release too); the per-operation figures are BenchmarkDotNet's (docs/results/bdn/).
/// </summary>
public sealed class HotPathAllocationTests
{
    private const int Operations = 4096;

    [Theory]
    [InlineData("spsc TryWrite/TryRead")]
    [InlineData("spsc TryClaim+Publish/Drain")]
    [InlineData("spsc TryWrite(span)/TryRead(span)")]
    [InlineData("mpsc TryWrite/TryRead")]
    [InlineData("mpsc TryClaim+Publish/Drain")]
    [InlineData("spsc records TryWrite/Read")]
    [InlineData("spsc records TryClaim+Commit/TryRead")]
    [InlineData("mpsc records TryClaim+Commit/Read")]
    [InlineData("WakeIfSleeping (consumer awake) and Park (work arrived)")]
    public void A_hot_path_allocates_nothing_per_operation(string path)
    {
        using var region = SharedRegion.CreateAnonymous(
            SlotRing<long>.Part(64, tag: 0), SlotRing<long>.Part(64, multipleProducers: true, tag: 1),
            RecordRing.Part(4096, 64, tag: 0), RecordRing.Part(4096, 64, multipleProducers: true, tag: 1), WaitBlock.Part(0));
        var exercise = Path(path, region);
        exercise(); // warm-up: first calls may JIT, allocate statics and caches
        long before = GC.GetAllocatedBytesForCurrentThread();
        exercise();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated == 0, $"{path}: {allocated} bytes over {Operations} operations");
    }

    private static Action Path(string path, SharedRegion region)
    {
        var spsc = new SlotRing<long>(region, 0u);
        var mpsc = new SlotRing<long>(region, 1u);
        var records = new RecordRing(region, 0u);
        var mpscRecords = new RecordRing(region, 1u);
        var waitBlock = new WaitBlock(region, 0u, singleProducer: true);
        var sender = new FutexDoorbellSender(waitBlock);
        var receiver = new FutexDoorbellReceiver(waitBlock);
        long[] batch = new long[16];
        byte[] payload = new byte[48];
        byte[] buffer = new byte[64];
        return path switch
        {
            "spsc TryWrite/TryRead" => () => Repeat(() => Check(spsc.TryWrite(1) && spsc.TryRead(out _))),
            "spsc TryClaim+Publish/Drain" => () => Repeat(() =>
            {
                Check(spsc.TryClaim(out SlotClaim<long> claim));
                claim.Item = 2;
                claim.Publish();
                var sum = new Sum();
                Check(1 == spsc.Drain(ref sum));
            }),
            "spsc TryWrite(span)/TryRead(span)" => () => Repeat(() => Check(spsc.TryWrite(batch) == batch.Length && spsc.TryRead(batch) == batch.Length)),
            "mpsc TryWrite/TryRead" => () => Repeat(() => Check(mpsc.TryWrite(3) && mpsc.TryRead(out _))),
            "mpsc TryClaim+Publish/Drain" => () => Repeat(() =>
            {
                Check(mpsc.TryClaim(out SlotClaim<long> claim));
                claim.Item = 4;
                claim.Publish();
                var sum = new Sum();
                Check(1 == mpsc.Drain(ref sum));
            }),
            "spsc records TryWrite/Read" => () => Repeat(() =>
            {
                Check(records.TryWrite(1, payload));
                var count = new Records();
                Check(1 == records.Read(ref count));
            }),
            "spsc records TryClaim+Commit/TryRead" => () => Repeat(() =>
            {
                Check(records.TryClaim(2, payload.Length, out RecordClaim claim));
                claim.Payload[0] = 7;
                claim.Commit();
                Check(records.TryRead(out _, buffer, out _));
            }),
            "mpsc records TryClaim+Commit/Read" => () => Repeat(() =>
            {
                Check(mpscRecords.TryClaim(3, payload.Length, out RecordClaim claim));
                claim.Commit();
                var count = new Records();
                Check(1 == mpscRecords.Read(ref count));
            }),
            "WakeIfSleeping (consumer awake) and Park (work arrived)" => () => Repeat(() =>
            {
                waitBlock.WakeIfSleeping(sender);
                var probe = new WorkArrived();
                Check(waitBlock.Park(ref probe, receiver, TimeSpan.FromMilliseconds(100)));
            }),
            _ => throw new ArgumentOutOfRangeException(nameof(path), path, "no such path"),
        };
    }

    /// <summary>A check that allocates nothing when it holds (xunit's asserts may allocate).</summary>
    private static void Check(bool condition)
    {
        if (!condition)
        {
            throw new InvalidOperationException("the ring operation did not do what it should");
        }
    }

    private static void Repeat(Action operation)
    {
        for (int i = 0; i < Operations; i++)
        {
            operation();
        }
    }

    private struct Sum : ISlotHandler<long>
    {
        public long Total;

        public void Handle(in long item) => Total += item;
    }

    private struct Records : IRecordHandler
    {
        public int Count;

        public void Handle(int type, ReadOnlySpan<byte> payload) => Count++;
    }

    private readonly struct WorkArrived : IWaitProbe
    {
        public bool HasWork => true;
    }
}
