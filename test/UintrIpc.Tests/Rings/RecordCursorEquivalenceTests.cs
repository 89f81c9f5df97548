using UintrIpc.Memory;
using UintrIpc.Rings;

namespace UintrIpc.Tests.Rings;

/// <summary>
/// The pull batch's cursor (its fast test on the next record's pointer and the segment's end,
/// the rare cases through RecordAt) against Read on the same bytes: for rings whose head is at
/// every index of the lap and whose records are a seeded mix of messages, padding (to the end
/// and record-sized), claim markers, uncommitted headers and hostile lengths and types, both
/// forms must hand out the same messages, report the same corruption at the same position, and
/// release to the same position. Capacity 256: max message 32, longest record 40 bytes.
/// </summary>
public abstract class RecordCursorEquivalenceTests
{
    private const int Capacity = 256;
    private static readonly int[] s_limits = [1, 2, 3, 5, 8, int.MaxValue];
    private static readonly int[] s_hostileLengths = [1, 4, 7, 41, 47, 48, 64, 255, 256, 257, 1 << 20, int.MaxValue];
    private static readonly int[] s_hostileTypes = [-2, -5, int.MinValue];

    private protected abstract PartKind Kind { get; }

    [Fact]
    public void A_batch_takes_exactly_what_Read_takes_from_every_start_index_and_record_mix()
    {
        int cases = 0;
        for (int seed = 0; seed < 4096; seed++)
        {
            var random = new Random(seed);
            int startIndex = (seed % (Capacity / 8)) * 8; // every index of the lap, 0 included
            long head = (Capacity * (long)random.Next(0, 3)) + startIndex;
            int limit = s_limits[random.Next(s_limits.Length)];
            List<(int Index, int Length, int Type)> headers = Records(random, startIndex);

            using SharedRegion readRegion = NewRegion(head, headers, out RecordRingUnderTest read);
            using SharedRegion batchRegion = NewRegion(head, headers, out RecordRingUnderTest batch);

            var handler = new CollectingHandler([]);
            RingCorruptedException? readError = null;
            try
            {
                read.Read(ref handler, limit);
            }
            catch (RingCorruptedException e)
            {
                readError = e;
            }

            var taken = new List<(int Type, byte[] Payload)>();
            RingCorruptedException? batchError = null;
            if (batch.Ring.TryReadBatch(limit, out RecordCursor cursor))
            {
                try
                {
                    while (cursor.TryNext(out int type, out ReadOnlySpan<byte> payload))
                    {
                        taken.Add((type, payload.ToArray()));
                        Assert.True(taken.Count <= limit, $"seed {seed}: the batch took more than its limit {limit}");
                    }
                }
                catch (RingCorruptedException e)
                {
                    batchError = e;
                }

                Assert.Equal(taken.Count, cursor.Count);
                batch.Ring.CompleteBatch(cursor);
            }

            string what = $"seed {seed}, head {head}, limit {limit}, records {string.Join(' ', headers)}";
            Assert.True(handler.Messages.Count == taken.Count, $"{what}: Read took {handler.Messages.Count}, the batch {taken.Count}");
            for (int i = 0; i < taken.Count; i++)
            {
                Assert.True(handler.Messages[i].Type == taken[i].Type && handler.Messages[i].Payload.AsSpan().SequenceEqual(taken[i].Payload), $"{what}: message {i} differs");
            }

            Assert.True(readError?.Message == batchError?.Message, $"{what}: Read reported '{readError?.Message}', the batch '{batchError?.Message}'");
            Assert.True(readError?.Position == batchError?.Position, $"{what}: reported at {readError?.Position} and {batchError?.Position}");
            Assert.True(read.ConsumerPosition == batch.ConsumerPosition, $"{what}: Read released to {read.ConsumerPosition}, the batch to {batch.ConsumerPosition}");
            cases++;
        }

        Assert.Equal(4096, cases);
    }

    /// <summary>
    /// Headers from <paramref name="startIndex"/> on, one lap at most (the last one may reach past
    /// the lap's end, into the batch's start): each a message, padding, or something no producer
    /// writes; a chain ends at a header after which the records are not reached.
    /// </summary>
    private static List<(int Index, int Length, int Type)> Records(Random random, int startIndex)
    {
        var headers = new List<(int, int, int)>();
        int index = startIndex;
        int covered = 0;
        while (covered < Capacity)
        {
            int roll = random.Next(100);
            int length;
            int type = random.Next(10);
            bool ends = false;
            if (roll < 55)
            {
                length = 8 + random.Next(0, 33); // a message, possibly crossing the data area's end
            }
            else if (roll < 65)
            {
                length = Capacity - index; // padding to the end
                type = RingLayout.PaddingRecordType;
            }
            else if (roll < 73)
            {
                length = 8 + random.Next(0, 48); // padding of a record's size, or longer
                type = RingLayout.PaddingRecordType;
            }
            else if (roll < 78)
            {
                length = 0; // not committed
                ends = true;
            }
            else if (roll < 83)
            {
                length = random.Next(2) == 0 ? -(8 + random.Next(0, 33)) : int.MinValue; // a claim marker's sign (MPSC)
                ends = true;
            }
            else if (roll < 93)
            {
                length = s_hostileLengths[random.Next(s_hostileLengths.Length)];
                ends = true;
            }
            else
            {
                length = 8 + random.Next(0, 33);
                type = s_hostileTypes[random.Next(s_hostileTypes.Length)];
            }

            headers.Add((index, length, type));
            if (ends)
            {
                break;
            }

            int step = (length + 7) & ~7;
            index = (index + step) % Capacity;
            covered += step;
        }

        return headers;
    }

    private unsafe SharedRegion NewRegion(long head, List<(int Index, int Length, int Type)> headers, out RecordRingUnderTest ring)
    {
        var region = SharedRegion.CreateAnonymous(RecordRingUnderTest.Part(Kind, Capacity));
        var memory = new RecordRingMemory(region, Kind);
        memory.Head = head;
        memory.Tail = head + Capacity;
        ring = RecordRingUnderTest.Attach(Kind, region);
        foreach ((int index, int length, int type) in headers)
        {
            for (int i = index + 8; i < Math.Min(Capacity, index + 48); i++)
            {
                memory.Data[i] = (byte)(i ^ index ^ type); // payload bytes that differ per record
            }
        }

        foreach ((int index, int length, int type) in headers)
        {
            memory.WriteHeader(index, length, type);
        }

        return region;
    }
}

public sealed class SpscRecordCursorEquivalenceTests : RecordCursorEquivalenceTests
{
    private protected override PartKind Kind => PartKind.SpscRecords;
}

public sealed class MpscRecordCursorEquivalenceTests : RecordCursorEquivalenceTests
{
    private protected override PartKind Kind => PartKind.MpscRecords;
}
