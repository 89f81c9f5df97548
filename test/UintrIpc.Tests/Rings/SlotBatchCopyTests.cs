using UintrIpc.Channels;
using UintrIpc.Memory;
using UintrIpc.Rings;

namespace UintrIpc.Tests.Rings;

/// <summary>
/// Copies of a <see cref="SlotBatch{T}"/> (a ref struct) published after the original: once the
/// consumer has read the slots and another producer has taken them for the next lap, a copy
/// must not put its sequences back over that producer's elements (uintripc.h 2d).
/// </summary>
public sealed class SlotBatchCopyTests
{
    [Fact]
    public void A_copy_published_after_the_slots_were_reused_throws_and_leaves_the_next_lap_readable()
    {
        using var region = SharedRegion.CreateAnonymous(SlotRing<long>.Part(4, multipleProducers: true));
        using var first = new SlotRing<long>(region);
        using var other = new SlotRing<long>(region);
        Assert.True(first.TryClaim(2, out SlotBatch<long> batch));
        SlotBatch<long> copy = batch;
        batch[0] = 10;
        batch[1] = 11;
        batch.Publish();
        var destination = new long[4];
        Assert.Equal(2, first.TryRead(destination));

        Assert.Equal(4, other.TryWrite([20L, 21, 22, 23])); // positions 2 to 5: slots 2, 3, 0, 1
        try
        {
            copy.Publish();
            Assert.Fail("a copy published the original's slots again");
        }
        catch (InvalidOperationException)
        {
        }

        copy.Dispose();
        Assert.Equal(4, first.TryRead(destination));
        Assert.Equal([20L, 21, 22, 23], destination);
        Assert.Equal(6, first.ConsumerPosition);
    }
}
