using UintrIpc.Memory;
using UintrIpc.Rings;

namespace UintrIpc.Tests.Rings;

/// <summary>
/// TryRead's two paths: the inline one (a message at head that fits, at most
/// <see cref="InlinedBytes.InlineLimit"/> bytes with its header, payloads of 1 KiB or more
/// copied as a first word and the rest) and the general one (longer records: InlinedBytes.CopyOut,
/// the span copy above 2 KiB, while TryWrite's copy is inline up to <see cref="InlinedBytes.CopyLimit"/>). Each length
/// around a boundary comes out byte for byte, leaves the destination's rest alone, and its
/// record is zeroed and given back.
/// </summary>
public sealed unsafe class RecordTryReadPathTests
{
    public static TheoryData<int> Lengths => [0, 1, 7, 8, 9, 63, 64, 71, 72, 73, 135, 136, 1016, 1023, 1024, 1025, InlinedBytes.InlineLimit - 8, InlinedBytes.InlineLimit - 7, 2049, 3000, 4088, 4095, 4096, 4097, 6000];

    [Theory]
    [MemberData(nameof(Lengths))]
    public void A_message_comes_out_whole_and_its_record_is_zeroed_and_released(int payloadLength)
    {
        const int capacity = 65536;
        using var region = SharedRegion.CreateAnonymous(RecordRing.Part(capacity, maxMessageLength: 8192));
        using var producer = new RecordRing(region);
        using var consumer = new RecordRing(region);
        byte* data = region.PartPointer(region.Parts[0]) + RingLayout.ControlSize;
        var destination = new byte[payloadLength + 32];
        // Three laps of records at shifting offsets in their lines, each read back at once.
        for (int i = 0; i < 3 * capacity / (payloadLength + 16) + 3; i++)
        {
            byte[] payload = ClaimAssert.Pattern(payloadLength, i);
            Assert.True(producer.TryWrite(i & 0xff, payload));
            destination.AsSpan().Fill(0xee);
            long head = consumer.ConsumerPosition;

            Assert.True(consumer.TryRead(out int type, destination, out int length));

            Assert.Equal((i & 0xff, payloadLength), (type, length));
            Assert.Equal(payload, destination.AsSpan(0, payloadLength).ToArray());
            Assert.True(destination.AsSpan(payloadLength).IndexOfAnyExcept((byte)0xee) < 0, "TryRead wrote past the message");
            int aligned = (8 + payloadLength + 7) & ~7;
            long consumed = consumer.ConsumerPosition - head;
            int index = (int)(head & (capacity - 1));
            // The record, or padding to the end of the lap and the record at the start.
            Assert.True(consumed == aligned || (index + consumed - aligned == capacity), $"consumed {consumed} at index {index}");
            int first = (int)Math.Min(consumed, capacity - index);
            Assert.True(new ReadOnlySpan<byte>(data + index, first).IndexOfAnyExcept((byte)0) < 0, "the record was not zeroed");
            Assert.True(new ReadOnlySpan<byte>(data, (int)consumed - first).IndexOfAnyExcept((byte)0) < 0, "the record after the padding was not zeroed");
            Assert.False(consumer.TryRead(out _, destination, out _));
        }
    }
}
