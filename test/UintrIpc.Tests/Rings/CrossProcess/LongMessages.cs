using System.Buffers.Binary;
using System.Diagnostics;
using UintrIpc.Rings;

namespace UintrIpc.Tests.Rings.CrossProcess;

/// <summary>
/// Messages of one long value (record type 1, 8 bytes; or a slot of long) as the ring-dispose-open
/// producer writes them, and a consumer that reads the next one past dead claims.
/// </summary>
internal static class LongMessages
{
    public static byte[] Bytes(long value)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, value);
        return bytes;
    }

    public static long? TryRead(RecordRing consumer)
    {
        var buffer = new byte[consumer.MaxMessageLength];
        if (!consumer.TryRead(out int type, buffer, out int length))
        {
            return null;
        }

        Assert.Equal((1, 8), (type, length));
        return BinaryPrimitives.ReadInt64LittleEndian(buffer);
    }

    /// <summary>The next message, skipping dead claims; fails when there is no progress for <paramref name="progressTimeout"/>.</summary>
    public static long ReadWithin(Func<long?> read, Func<bool> skip, TimeSpan progressTimeout)
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            if (read() is { } value)
            {
                return value;
            }

            if (skip())
            {
                watch.Restart(); // progress: a claim was skipped
                continue;
            }

            Assert.True(watch.Elapsed < progressTimeout, "the consumer is stalled at a dead producer's claim");
            Thread.Sleep(1);
        }
    }
}
