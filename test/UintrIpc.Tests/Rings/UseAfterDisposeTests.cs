using UintrIpc.Channels;
using UintrIpc.Memory;
using UintrIpc.Rings;

namespace UintrIpc.Tests.Rings;

/// <summary>
/// A claim or batch used after the ring (or the channel) that made it was disposed, with the
/// region disposed too, so the mapping is gone: completing it throws
/// <see cref="ObjectDisposedException"/>, disposing it does nothing, and neither touches the
/// unmapped memory (which would end this process) nor the closed doorbell.
/// </summary>
public sealed class UseAfterDisposeTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_record_batch_of_a_disposed_ring_throws_and_its_dispose_touches_nothing(bool multipleProducers)
    {
        var (region, ring) = RecordRingAlone(multipleProducers);
        Assert.True(ring.TryClaimBatch(128, out RecordBatch batch));
        Assert.True(batch.TryAppend(1, 8, out _));
        Gone(region, ring);

        Assert.True(ThrowsDisposed(ref batch, static (ref RecordBatch b) => b.TryAppend(1, 8, out _)), "TryAppend");
        Assert.True(ThrowsDisposed(ref batch, static (ref RecordBatch b) => b.TryAppend(1, 8, 2, out _)), "TryAppend of a run");
        Assert.True(ThrowsDisposed(ref batch, static (ref RecordBatch b) => b.TryAppend(1, 120, out _)), "TryAppend without room"); // 128 bytes of 112 left
        Assert.True(ThrowsDisposed(ref batch, static (ref RecordBatch b) => b.TryAppend(1, 8, 7, out _)), "TryAppend of a run without room");
        Assert.Equal((1, 112), (batch.Count, batch.BytesLeft));
        Assert.True(ThrowsDisposed(ref batch, static (ref RecordBatch b) => b.Commit()), "Commit");
        Assert.True(ThrowsDisposed(ref batch, static (ref RecordBatch b) => b.Abort()), "Abort");
        batch.Dispose();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_record_claim_of_a_disposed_ring_throws_and_its_dispose_touches_nothing(bool multipleProducers)
    {
        var (region, ring) = RecordRingAlone(multipleProducers);
        Assert.True(ring.TryClaim(1, 8, out RecordClaim claim));
        Gone(region, ring);

        Assert.True(ThrowsDisposed(ref claim, static (ref RecordClaim c) => c.Commit()), "Commit");
        Assert.True(ThrowsDisposed(ref claim, static (ref RecordClaim c) => c.Abort()), "Abort");
        claim.Dispose();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_slot_claim_and_batch_of_a_disposed_ring_throw_and_their_dispose_touches_nothing(bool multipleProducers)
    {
        var region = SharedRegion.CreateAnonymous(SlotRing<long>.Part(16, multipleProducers));
        var ring = new SlotRing<long>(region);
        Assert.True(ring.TryClaim(out SlotClaim<long> claim));
        claim.Item = 1;
        Assert.True(ring.TryClaim(2, out SlotBatch<long> batch) || !multipleProducers); // SPSC: the open claim holds the next slot
        Gone(region, ring);

        Assert.True(ThrowsDisposed(ref claim, static (ref SlotClaim<long> c) => c.Publish()), "claim Publish");
        Assert.True(ThrowsDisposed(ref claim, static (ref SlotClaim<long> c) => c.Abort()), "claim Abort");
        claim.Dispose();
        if (batch.IsActive)
        {
            Assert.True(ThrowsDisposed(ref batch, static (ref SlotBatch<long> b) => b.Publish()), "batch Publish");
            Assert.True(ThrowsDisposed(ref batch, static (ref SlotBatch<long> b) => b.Abort()), "batch Abort");
            batch.Dispose();
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Claims_and_batches_of_a_disposed_message_channel_throw_and_their_dispose_touches_nothing(bool multipleWriters)
    {
        var channel = IpcChannel.CreateMessages(new IpcChannelOptions { Capacity = 4096, MultipleWriters = multipleWriters, Doorbell = DoorbellKind.EventFd });
        _ = channel.Reader; // first: the eventfd doorbell is the reader's, the writer's sender rings it
        var writer = channel.Writer;
        Assert.True(writer.TryClaimBatch(128, out RecordBatch batch));
        Assert.True(batch.TryAppend(1, 8, out _));
        channel.Dispose();

        Assert.True(ThrowsDisposed(ref batch, static (ref RecordBatch b) => b.TryAppend(1, 8, out _)), "TryAppend");
        Assert.True(ThrowsDisposed(ref batch, static (ref RecordBatch b) => b.Commit()), "Commit");
        batch.Dispose(); // it woke the reader through the closed doorbell, or the unmapped wait block

        channel = IpcChannel.CreateMessages(new IpcChannelOptions { Capacity = 4096, MultipleWriters = multipleWriters, Doorbell = DoorbellKind.EventFd });
        _ = channel.Reader;
        Assert.True(channel.Writer.TryClaim(1, 8, out MessageClaim claim));
        channel.Dispose();
        Assert.True(ThrowsDisposed(ref claim, static (ref MessageClaim c) => c.Abort()), "claim Abort");
        claim.Dispose(); // threw ObjectDisposedException from the ring's Abort
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_slot_batch_of_a_disposed_channel_throws_and_its_dispose_touches_nothing(bool multipleWriters)
    {
        var channel = IpcChannel.CreateBounded<long>(new IpcChannelOptions { Capacity = 16, MultipleWriters = multipleWriters, Doorbell = DoorbellKind.EventFd });
        _ = channel.Reader;
        Assert.True(channel.Writer.TryClaim(2, out SlotBatch<long> batch));
        batch[0] = 1;
        channel.Dispose();

        Assert.True(ThrowsDisposed(ref batch, static (ref SlotBatch<long> b) => b.Publish()), "Publish");
        Assert.True(ThrowsDisposed(ref batch, static (ref SlotBatch<long> b) => b.Abort()), "Abort");
        batch.Dispose(); // it woke the reader through the closed doorbell
    }

    [Fact]
    public void The_state_getters_of_a_disposed_slot_channel_and_its_ends_throw_and_touch_nothing()
    {
        // Count and IsCompleted read the shared positions and state word: after the channel's
        // Dispose (its ends with it) the memory is unmapped, and a read ended the process (SIGSEGV).
        var channel = IpcChannel.CreateBounded<long>(new IpcChannelOptions { Capacity = 16, Doorbell = DoorbellKind.EventFd });
        var reader = channel.Reader;
        var writer = channel.Writer;
        Assert.True(writer.TryWrite(7));
        channel.Dispose();
        Assert.False(channel.Core.Region.IsMapped);

        Assert.Throws<ObjectDisposedException>(() => channel.IsCompleted);
        Assert.Throws<ObjectDisposedException>(() => reader.Count);
        Assert.Throws<ObjectDisposedException>(() => reader.IsCompleted);
        Assert.Throws<ObjectDisposedException>(() => writer.Count);
        Assert.Throws<ObjectDisposedException>(() => writer.IsCompleted);
        Assert.False(reader.Completion.IsCompleted); // asked first after Dispose: it observes nothing
    }

    [Fact]
    public void The_state_getters_of_a_disposed_message_channel_and_its_ends_throw_and_touch_nothing()
    {
        var channel = IpcChannel.CreateMessages(new IpcChannelOptions { Capacity = 4096, Doorbell = DoorbellKind.EventFd });
        var reader = channel.Reader;
        var writer = channel.Writer;
        Assert.True(writer.TryWrite(1, new byte[8]));
        channel.Dispose();
        Assert.False(channel.Core.Region.IsMapped);

        Assert.Throws<ObjectDisposedException>(() => channel.IsCompleted);
        Assert.Throws<ObjectDisposedException>(() => reader.IsCompleted);
        Assert.Throws<ObjectDisposedException>(() => writer.IsCompleted);
        Assert.False(reader.Completion.IsCompleted);
    }

    private delegate void Use<T>(ref T value) where T : allows ref struct;

    private static bool ThrowsDisposed<T>(ref T value, Use<T> use) where T : allows ref struct
    {
        try
        {
            use(ref value);
            return false;
        }
        catch (ObjectDisposedException)
        {
            return true;
        }
    }

    private static (SharedRegion Region, RecordRing Ring) RecordRingAlone(bool multipleProducers)
    {
        var region = SharedRegion.CreateAnonymous(RecordRing.Part(1024, multipleProducers: multipleProducers));
        return (region, new RecordRing(region));
    }

    /// <summary>Disposes the ring, then the region: the ring held the last lease, so the mapping goes.</summary>
    private static void Gone(SharedRegion region, IDisposable ring)
    {
        ring.Dispose();
        region.Dispose();
    }
}
