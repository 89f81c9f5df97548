using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using UintrIpc.Channels;
using UintrIpc.Memory;
using UintrIpc.Rings;

namespace UintrIpc.Tests.Rings;

/// <summary>
/// SPSC record batches against a model, over many random batches: single appends and runs of
/// random lengths (equal lengths often, so that the read-back commit's same-length loop runs, and
/// mixed ones whose total happens to be a multiple of the first), in ranges on both sides of the
/// 1 KiB line between the commit from the entries and the read-back commit; in some of them a
/// peer rewrites headers or payload words before the commit. Whatever it wrote, the commit writes
/// nothing outside the appended records (every byte outside [head, tail) stays zero), the
/// consumer accepts everything published and reaches the tail, and every message before the
/// first one the peer touched is read exactly (all of them when it touched none, or only
/// headers of a range that commits from its entries).
/// </summary>
public sealed unsafe class RecordBatchRewriteModelTests
{
    private const int Capacity = 8192;
    private const int MaxLength = 300;

    [Fact]
    public void Spsc_commits_over_random_batches_and_rewrites_stay_within_the_records_and_never_stall_the_consumer()
    {
        using var region = SharedRegion.CreateAnonymous(RecordRing.Part(Capacity, MaxLength));
        using var ring = new RecordRing(region);
        var memory = new RecordRingMemory(region, PartKind.SpscRecords);
        var random = new Random(20261205);
        int[] ranges = [64, 512, 1024, 1032, 2048, 4096];
        int corrupted = 0, rewrittenPublished = 0;
        for (int round = 0; round < 4000; round++)
        {
            int range = ranges[random.Next(ranges.Length)];
            long head = ring.ConsumerPosition;
            Assert.True(ring.TryClaimBatch(range, out RecordBatch batch)); // an empty ring: any range up to half of it fits
            var appended = new List<Appended>();
            try
            {
                AppendRandom(ref batch, random, appended);
                Rewrite? rewrite = random.Next(2) == 0 ? Rewrite.Apply(random, appended) : null;
                bool readBack = range > 1024;
                try
                {
                    batch.Commit();
                    rewrittenPublished += rewrite is null ? 0 : 1;
                }
                catch (RingCorruptedException)
                {
                    Assert.True(rewrite is not null && readBack, "only the read-back commit of a rewritten batch reports corruption");
                    corrupted++;
                }

                // Nothing outside [head, tail): the records (and the wrap's padding) only.
                Assert.True(memory.FreeSpaceIsZero(head, ring.ProducerPosition), $"round {round}: a byte outside the published records was written");
                var read = new CollectingHandler([]);
                ring.Read(ref read); // throws if the consumer meets anything it does not accept
                Assert.Equal(ring.ProducerPosition, ring.ConsumerPosition); // nothing left that stalls it
                Assert.True(memory.FreeSpaceIsZero(ring.ConsumerPosition, ring.ConsumerPosition));
                int exact = rewrite is null || (!readBack && rewrite.HeadersOnly) ? appended.Count : rewrite.FirstTouched;
                Assert.True(read.Messages.Count >= exact, $"round {round}: {read.Messages.Count} messages read, {exact} expected exactly");
                for (int i = 0; i < exact; i++)
                {
                    Assert.Equal(appended[i].Type, read.Messages[i].Type);
                    Assert.Equal(appended[i].Payload, read.Messages[i].Payload);
                }

                if (rewrite is null || (!readBack && rewrite.HeadersOnly))
                {
                    Assert.Equal(appended.Count, read.Messages.Count);
                }
            }
            finally
            {
                batch.Dispose();
            }
        }

        Assert.True(corrupted > 100 && rewrittenPublished > 100, $"{corrupted} commits reported a rewrite, {rewrittenPublished} published over one");
    }

    /// <summary>Appends single messages and runs until the batch refuses one (or a few steps were made).</summary>
    private static void AppendRandom(ref RecordBatch batch, Random random, List<Appended> appended)
    {
        int steps = random.Next(1, 40);
        int last = random.Next(MaxLength + 1);
        for (int step = 0; step < steps; step++)
        {
            int length = random.Next(4) switch
            {
                0 => last, // often equal lengths: the same-length loop of the read-back commit
                1 => random.Next(17),
                2 => (random.Next(1, 5) * 8) - 8, // records of 8 to 32 bytes: mixed records whose sum is a multiple of the first
                _ => random.Next(MaxLength + 1),
            };
            last = length;
            int type = random.Next(1000);
            if (random.Next(3) == 0)
            {
                int count = random.Next(1, 6);
                if (!batch.TryAppend(type, length, count, out RecordRun run))
                {
                    return;
                }

                for (int i = 0; i < run.Count; i++)
                {
                    appended.Add(Appended.Fill(run[i], type, random));
                }
            }
            else
            {
                if (!batch.TryAppend(type, length, out Span<byte> payload))
                {
                    return;
                }

                appended.Add(Appended.Fill(payload, type, random));
            }
        }
    }

    /// <summary>An appended message: where it is, and what the consumer should read.</summary>
    private sealed record Appended(nint At, int Type, byte[] Payload)
    {
        public nint End => At + RecordRingEngine.Align(RingLayout.RecordHeaderSize + Payload.Length);

        public static Appended Fill(Span<byte> payload, int type, Random random)
        {
            random.NextBytes(payload); // random words: some look like headers to a commit that strays
            nint record = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetReference(payload)) - RingLayout.RecordHeaderSize;
            return new Appended(record, type, payload.ToArray());
        }
    }

    /// <summary>What a peer wrote over the batch before its commit.</summary>
    private sealed class Rewrite
    {
        /// <summary>Whether it wrote only whole headers (no payload word).</summary>
        public bool HeadersOnly { get; private set; } = true;

        /// <summary>The first message whose bytes it wrote.</summary>
        public int FirstTouched { get; private set; } = int.MaxValue;

        public static Rewrite? Apply(Random random, List<Appended> appended)
        {
            if (appended.Count == 0)
            {
                return null;
            }

            var rewrite = new Rewrite();
            int writes = random.Next(1, 3);
            for (int w = 0; w < writes; w++)
            {
                int target = random.Next(appended.Count);
                Appended message = appended[target];
                nint at = message.At;
                if (random.Next(4) == 0 && message.End - message.At > RingLayout.RecordHeaderSize)
                {
                    // A payload word: a header to a commit that walks there.
                    at += 8 * random.Next(1, (int)((message.End - message.At) / 8));
                    rewrite.HeadersOnly = false;
                }

                *(long*)at = Value(random, appended);
                rewrite.FirstTouched = Math.Min(rewrite.FirstTouched, target);
            }

            return rewrite;
        }

        /// <summary>A hostile header: forged "appended" headers (valid lengths, some the first message's), published ones, padding, nonsense.</summary>
        private static long Value(Random random, List<Appended> appended)
        {
            int length = random.Next(RingLayout.RecordHeaderSize, RingLayout.RecordHeaderSize + MaxLength + 1);
            int type = random.Next(1000);
            return random.Next(9) switch
            {
                0 => 0,
                1 => random.NextInt64(long.MinValue, long.MaxValue),
                2 => Header(-length, type),
                3 => Header(-(RingLayout.RecordHeaderSize + appended[0].Payload.Length), type), // the first's length
                4 => Header(-(RingLayout.RecordHeaderSize + random.Next(0, 33)), type), // short records
                5 => Header(length, type), // published already
                6 => Header(-length, RingLayout.PaddingRecordType),
                7 => Header(int.MinValue, type),
                _ => Header(-(Capacity / 2), type), // longer than any record
            };
        }

        private static long Header(int length, int type) => (uint)length | ((long)type << 32);
    }
}
