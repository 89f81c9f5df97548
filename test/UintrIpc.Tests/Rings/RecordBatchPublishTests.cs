using UintrIpc.Channels;
using UintrIpc.Rings;

using static UintrIpc.Tests.Rings.RecordTestKit;

namespace UintrIpc.Tests.Rings;

/// <summary>
/// What a batch's commit publishes from its private copies of the headers (RecordBatchEntries:
/// each header as published, length and type written with one 64-bit store): every record's
/// type (the whole word, also where the MPSC claimed marker stood), length and bytes, over many
/// laps, so that batches end at the end of the data area, start after the padding there, and
/// leave unused room that becomes padding.
/// </summary>
public sealed class RecordBatchPublishTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Batches_over_many_laps_publish_each_record_with_its_type_and_length_exactly(bool multi)
    {
        using var region = Region(1024, multi, maxMessageLength: 64);
        using var ring = new RecordRing(region);
        // Types with high bits set: a commit that published only the length word left MPSC's
        // claimed marker (negative) as the type; one that dropped the type's upper bits changed them.
        int[] types = [0, 1, 0x7fff_ffff, 0x4000_0000, 0x1234_5678, 12];
        var expected = new List<(int Type, int Length, int Tag)>();
        var read = new List<(int Type, byte[] Payload)>();
        int appended = 0, atStart = 0;
        for (int batchIndex = 0; batchIndex < 300; batchIndex++)
        {
            int count = 1 + (batchIndex % 5);
            int bytes = 8 * (3 + (batchIndex * 7 % 23)) * count; // room for the records, often more (MPSC: padding)
            long tail = ring.ProducerPosition;
            int attempts = 0;
            RecordBatch batch;
            while (!ring.TryClaimBatch(bytes, out batch))
            {
                // A range longer than the rest of the lap: the claim pads to the end, and takes
                // the range from index 0 once the consumer has passed the padding (RecordBatchWrapTests).
                Assert.True(++attempts < 4, $"batch {batchIndex} of {bytes} bytes refused {attempts} times by a drained ring");
                Assert.Empty(ReadAll(ring));
                tail = ring.ProducerPosition;
            }

            using (batch)
            {
                for (int i = 0; i < count; i++)
                {
                    int type = types[(batchIndex + i) % types.Length];
                    int length = (batchIndex * 3 + i * 5) % 25; // 0 .. 24 bytes: records of 8 .. 32
                    int tag = appended & 0x7f;
                    if (!batch.TryAppend(type, length, out Span<byte> payload))
                    {
                        break;
                    }

                    Fill(payload, tag);
                    expected.Add((type, length, tag));
                    appended++;
                }

                batch.Commit();
            }

            if (tail % 1024 + bytes > 1024)
            {
                atStart++; // the range did not fit before the end: padding there, the records from index 0
            }

            read.AddRange(ReadAll(ring)); // drained after each batch: every claim fits
            Assert.Equal(ring.ProducerPosition, ring.ConsumerPosition);
        }

        Assert.True(atStart >= 10, $"only {atStart} batches started after padding at the end"); // the test reaches the wrap
        Assert.Equal(appended, read.Count);
        Assert.Equal(expected.Count, read.Count);
        for (int i = 0; i < read.Count; i++)
        {
            AssertMessage(read[i], expected[i].Type, expected[i].Length, expected[i].Tag);
        }
    }
}
