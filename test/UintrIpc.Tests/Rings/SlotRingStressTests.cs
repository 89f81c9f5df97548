using UintrIpc.Memory;
using UintrIpc.Rings;

namespace UintrIpc.Tests.Rings;

/// <summary>
/// In-process concurrency with exact counts, for every slot ring kind: one producer thread,
/// one consumer thread, each through its own mapping of the region (as two processes would).
/// Short by default; UINTRIPC_STRESS=1 runs millions of messages.
/// </summary>
[Collection(SlotRingStressCollection.Name)]
public abstract class SlotRingStressTests
{
    private protected abstract ISlotRingFactory Factory { get; }

    protected static int Messages(int normal, int stress) => Bounded.IsStress ? stress : normal;

    [Theory]
    [InlineData(2)]
    [InlineData(64)]
    public void OneProducerOneConsumer_EveryMessageOnceInOrder(int capacity)
    {
        int messages = Messages(500_000, 10_000_000);
        using var region = SharedRegion.CreateAnonymous(Factory.Part<StressMessage>(capacity));
        using var consumerMapping = SharedRegion.Attach(region.FileHandle);
        var consumer = Factory.Attach<StressMessage>(consumerMapping);

        var result = StressHarness.Run(1, messages, _ => Factory.Attach<StressMessage>(region), consumer);

        AssertExact(result, producers: 1, messages);
        Assert.Equal(messages, consumer.ProducerPosition);
        Assert.Equal(messages, consumer.ConsumerPosition);
        Assert.Equal(0, consumer.Count);
    }

    protected static void AssertExact(StressResult result, int producers, int perProducer)
    {
        Assert.True(result.Failure is null, result.Failure);
        Assert.Equal((long)producers * perProducer, result.Received);
        Assert.All(result.PerProducer, count => Assert.Equal(perProducer, count));
        Assert.Equal(producers * ((long)perProducer * (perProducer - 1) / 2), result.SequenceSum);
    }
}

/// <summary>Concurrency tests of <see cref="SlotRing{T}"/>.</summary>
public sealed class SpscRingStressTests : SlotRingStressTests
{
    private protected override ISlotRingFactory Factory => SpscFactory.Instance;
}

/// <summary>Concurrency tests of <see cref="SlotRing{T}"/>, adding many producers.</summary>
public sealed class MpscRingStressTests : SlotRingStressTests
{
    private protected override ISlotRingFactory Factory => MpscFactory.Instance;

    private static int ProducerCount => Math.Max(2, Environment.ProcessorCount);

    [Theory]
    [InlineData(4, true)]
    [InlineData(4, false)]
    [InlineData(1024, true)]
    [InlineData(1024, false)]
    public void ManyProducers_PerProducerOrder_NoLoss_NoDuplicates(int capacity, bool sharedRingObject)
    {
        int producers = ProducerCount;
        int perProducer = Messages(100_000, 2_000_000);
        using var region = SharedRegion.CreateAnonymous(SlotRing<StressMessage>.Part(capacity, multipleProducers: true));
        using var consumerMapping = SharedRegion.Attach(region.FileHandle);
        var consumer = Factory.Attach<StressMessage>(consumerMapping);
        var shared = Factory.Attach<StressMessage>(region);

        // Shared: all producer threads write through one object (and share its head cache);
        // otherwise each has its own object, as producers in separate processes would.
        var result = StressHarness.Run(producers, perProducer, _ => sharedRingObject ? shared : Factory.Attach<StressMessage>(region), consumer);

        AssertExact(result, producers, perProducer);
        Assert.Equal((long)producers * perProducer, consumer.ConsumerPosition);
        Assert.Equal(consumer.ProducerPosition, consumer.ConsumerPosition);
    }
}
