using UintrIpc.Memory;
using UintrIpc.Rings;

namespace UintrIpc.Tests.Rings;

/// <summary>What only the single-producer ring does: a claim publishes nothing until it is committed.</summary>
public sealed class RecordsSpscTests : IDisposable
{
    private readonly SharedRegion _region = SharedRegion.CreateAnonymous(RecordRing.Part(256));

    public void Dispose() => _region.Dispose();

    [Fact]
    public void An_open_claim_is_invisible_until_committed()
    {
        var ring = new RecordRing(_region);
        var memory = new RecordRingMemory(_region, PartKind.SpscRecords);
        Assert.True(ring.TryClaim(3, 16, out var claim));
        claim.Payload.Fill(1);
        Assert.Equal(0, memory.LengthAt(0));
        Assert.Equal(0, ring.ProducerPosition);
        Assert.False(ring.CanRead);

        claim.Commit();
        Assert.Equal(24, ring.ProducerPosition);
        Assert.Equal(24, memory.LengthAt(0));
        Assert.True(ring.CanRead);
    }

    [Fact]
    public void A_wrapping_claim_writes_its_padding_only_at_commit()
    {
        var ring = new RecordRing(_region);
        var memory = new RecordRingMemory(_region, PartKind.SpscRecords);
        for (int i = 0; i < 10; i++)
        {
            Assert.True(ring.TryWrite(i, new byte[16]));
        }

        Assert.Equal(10, Drain(ring));
        Assert.True(ring.TryClaim(10, 16, out var claim));
        Assert.Equal(0, memory.LengthAt(240));
        Assert.Equal(240, ring.ProducerPosition);
        claim.Commit();
        Assert.Equal(16, memory.LengthAt(240));
        Assert.Equal(RingLayout.PaddingRecordType, memory.TypeAt(240));
        Assert.Equal(240 + 16 + 24, ring.ProducerPosition);
        Assert.Equal(1, Drain(ring));
    }

    [Fact]
    public void An_abandoned_claim_is_discarded_by_the_next_write_and_cannot_be_committed_later()
    {
        var ring = new RecordRing(_region);
        var memory = new RecordRingMemory(_region, PartKind.SpscRecords);
        Assert.True(ring.TryClaim(1, 32, out var abandoned));
        abandoned.Payload.Fill(0xFF);

        // Two empty messages: the second header lies inside the abandoned payload, which must
        // read 0 again, or the consumer would take the 0xFF bytes for a record.
        Assert.True(ring.TryWrite(2, ReadOnlySpan<byte>.Empty));
        Assert.True(ring.TryWrite(3, ReadOnlySpan<byte>.Empty));
        Assert.True(memory.FreeSpaceIsZero(ring.ConsumerPosition, ring.ProducerPosition));
        ClaimAssert.CompleteThrows(ref abandoned, commit: true);

        var handler = new CollectingHandler([]);
        Assert.Equal(2, ring.Read(ref handler));
        Assert.Equal([2, 3], handler.Messages.Select(m => m.Type));
        Assert.Equal(16, ring.ConsumerPosition);
    }

    [Fact]
    public void A_new_claim_replaces_an_abandoned_one()
    {
        var ring = new RecordRing(_region);
        Assert.True(ring.TryClaim(1, 8, out var first));
        Assert.True(ring.TryClaim(2, 8, out var second));
        ClaimAssert.CompleteThrows(ref first, commit: false);
        second.Commit();
        Assert.Equal(1, Drain(ring));
    }

    [Fact]
    public void A_producer_and_a_consumer_in_separate_mappings_take_turns_across_many_laps()
    {
        using var other = SharedRegion.Attach(_region.FileHandle);
        var producer = new RecordRing(_region);
        var consumer = new RecordRing(other);
        var buffer = new byte[32];
        for (int i = 0; i < 1000; i++)
        {
            Assert.True(producer.TryWrite(i, ClaimAssert.Pattern(i % 33, i)));
            Assert.True(consumer.TryRead(out int type, buffer, out int length));
            Assert.Equal(i, type);
            Assert.Equal(ClaimAssert.Pattern(i % 33, i), buffer[..length]);
        }

        Assert.Equal(producer.ProducerPosition, consumer.ConsumerPosition);
    }

    private static int Drain(RecordRing ring)
    {
        var handler = new CollectingHandler([]);
        return ring.Read(ref handler);
    }
}
