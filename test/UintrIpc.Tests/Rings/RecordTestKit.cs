using UintrIpc.Channels;
using UintrIpc.Memory;
using UintrIpc.Rings;

namespace UintrIpc.Tests.Rings;

/// <summary>What the record batch and run tests share: a ring's region, reading everything back, payloads by tag.</summary>
internal static class RecordTestKit
{
    public static SharedRegion Region(int capacity, bool multi, int maxMessageLength = 0)
        => SharedRegion.CreateAnonymous(RecordRing.Part(capacity, maxMessageLength, multi));

    public static List<(int Type, byte[] Payload)> ReadAll(RecordRing ring)
    {
        var handler = new Collect([]);
        ring.Read(ref handler);
        return handler.Messages;
    }

    /// <summary>Payload byte i of message <paramref name="tag"/> is tag + i.</summary>
    public static void Fill(Span<byte> payload, int tag)
    {
        for (int i = 0; i < payload.Length; i++)
        {
            payload[i] = (byte)(tag + i);
        }
    }

    /// <summary>The message has <paramref name="type"/>, <paramref name="length"/> bytes, and byte i is <paramref name="tag"/> (by default the type) + i.</summary>
    public static void AssertMessage((int Type, byte[] Payload) message, int type, int length, int? tag = null)
    {
        Assert.Equal(type, message.Type);
        Assert.Equal(length, message.Payload.Length);
        for (int i = 0; i < length; i++)
        {
            Assert.Equal((byte)((tag ?? type) + i), message.Payload[i]);
        }
    }

    /// <summary>Fills a claimed batch in round <paramref name="round"/> of <see cref="AllocatedByBatches"/>.</summary>
    public delegate void BatchFill(ref RecordBatch batch, byte round);

    /// <summary>
    /// Bytes this thread allocated in 2000 rounds of claim (1 KiB), fill, commit and read on an
    /// 8 KiB ring, measured after the same rounds once as a warm-up.
    /// </summary>
    public static long AllocatedByBatches(bool multi, BatchFill fill)
    {
        using var region = Region(8192, multi);
        using var ring = new RecordRing(region);
        long Run()
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            var handler = new Count();
            for (int round = 0; round < 2000; round++)
            {
                if (ring.TryClaimBatch(1024, out RecordBatch batch))
                {
                    try // not `using`: the fill takes the batch by reference (CS0728)
                    {
                        fill(ref batch, (byte)round);
                        batch.Commit();
                    }
                    finally
                    {
                        batch.Dispose();
                    }
                }

                ring.Read(ref handler);
            }

            return GC.GetAllocatedBytesForCurrentThread() - before;
        }

        Run(); // warm-up
        return Run();
    }

    public readonly struct Collect(List<(int Type, byte[] Payload)> messages) : IRecordHandler
    {
        public List<(int Type, byte[] Payload)> Messages { get; } = messages;

        public void Handle(int type, ReadOnlySpan<byte> payload) => Messages.Add((type, payload.ToArray()));
    }

    public struct Count : IRecordHandler
    {
        public long Messages;

        public void Handle(int type, ReadOnlySpan<byte> payload) => Messages++;
    }
}
