using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using UintrIpc.Memory;
using UintrIpc.Rings;

namespace UintrIpc.TestPeer.Commands;

/// <summary>A message of the cross-process ring tests (same layout as the tests' copy).</summary>
internal readonly record struct RingTestMessage(int Producer, int Padding, long Sequence, long Check)
{
    /// <summary>The message <paramref name="sequence"/> of <paramref name="producer"/>, with its check word.</summary>
    public static RingTestMessage Of(int producer, long sequence)
        => new(producer, 0, sequence, unchecked((sequence * (long)0x9E3779B97F4A7C15) ^ producer));
}

/// <summary>Child-process side of the cross-process ring tests (test/UintrIpc.Tests/Rings/CrossProcess).</summary>
internal static class RingCommands
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    /// <summary>`ring-produce-slots fd|name &lt;fd-or-name&gt; spsc|mpsc producer count`: writes count messages.</summary>
    [PeerCommand("ring-produce-slots")]
    public static int ProduceSlots(string[] args)
    {
        using var region = Open(args[0], args[1]);
        int producer = int.Parse(args[3], CultureInfo.InvariantCulture);
        long count = long.Parse(args[4], CultureInfo.InvariantCulture);
        SlotRing<RingTestMessage>? mpsc = args[2] == "mpsc" ? new SlotRing<RingTestMessage>(region) : null;
        SlotRing<RingTestMessage>? spsc = mpsc is null ? new SlotRing<RingTestMessage>(region) : null;
        Func<RingTestMessage, bool> write = mpsc is not null ? m => mpsc.TryWrite(m) : m => spsc!.TryWrite(m);
        Console.WriteLine("ready");
        for (long i = 0; i < count; i++)
        {
            var message = RingTestMessage.Of(producer, i);
            if (!UntilWritten(() => write(message), producer, i))
            {
                return 3;
            }
        }

        Console.WriteLine("done");
        return 0;
    }

    /// <summary>`ring-produce-records fd|name &lt;fd-or-name&gt; spsc|mpsc producer count seed`: writes count records of random sizes.</summary>
    [PeerCommand("ring-produce-records")]
    public static int ProduceRecords(string[] args)
    {
        using var region = Open(args[0], args[1]);
        int producer = int.Parse(args[3], CultureInfo.InvariantCulture);
        int count = int.Parse(args[4], CultureInfo.InvariantCulture);
        var random = new Random(int.Parse(args[5], CultureInfo.InvariantCulture));
        RecordRing? spsc = args[2] == "mpsc" ? null : new RecordRing(region);
        RecordRing? mpsc = args[2] == "mpsc" ? new RecordRing(region) : null;
        int max = spsc?.MaxMessageLength ?? mpsc!.MaxMessageLength;
        var buffer = new byte[max];
        Console.WriteLine("ready");
        for (int i = 0; i < count; i++)
        {
            int length = RecordBody.Fill(buffer, producer, i, random.Next(RecordBody.HeaderLength, max + 1));
            if (!UntilWritten(() => spsc?.TryWrite(producer, buffer.AsSpan(0, length)) ?? mpsc!.TryWrite(producer, buffer.AsSpan(0, length)), producer, i))
            {
                return 3;
            }
        }

        Console.WriteLine("done");
        return 0;
    }

    /// <summary>`ring-claim-and-hang name slots|records`: claims in the MPSC ring, never publishes, waits to be killed.</summary>
    [PeerCommand("ring-claim-and-hang")]
    public static int ClaimAndHang(string[] args)
    {
        using var region = SharedRegion.OpenNamed(args[0], TimeSpan.FromSeconds(10));
        bool claimed = args[1] == "records"
            ? new RecordRing(region).TryClaim(type: 99, length: 24, out _)
            : new SlotRing<RingTestMessage>(region).TryClaim(out _);
        Console.WriteLine(claimed ? "claimed" : "full");
        // Bounded, like every wait: the parent kills us long before this ends.
        Thread.Sleep(TimeSpan.FromMinutes(2));
        return 3;
    }

    /// <summary>
    /// Retries <paramref name="write"/> while the ring is full; false (reported) when it stayed full
    /// for the whole <see cref="Deadline"/>, measured from this call (the last write: the last progress).
    /// </summary>
    internal static bool UntilWritten(Func<bool> write, int producer, long at)
    {
        if (write())
        {
            return true;
        }

        long since = Stopwatch.GetTimestamp();
        var spin = default(SpinWait);
        while (!write())
        {
            if (Stopwatch.GetElapsedTime(since) > Deadline)
            {
                Console.Error.WriteLine($"producer {producer}: ring full for too long at {at}");
                return false;
            }

            spin.SpinOnce(sleep1Threshold: -1);
        }

        return true;
    }

    private static SharedRegion Open(string mode, string what) => mode == "fd"
        ? SharedRegion.Attach(int.Parse(what, CultureInfo.InvariantCulture), TimeSpan.FromSeconds(10))
        : SharedRegion.OpenNamed(what, TimeSpan.FromSeconds(10));
}

/// <summary>The body of a test record: (producer, sequence, length) then bytes derived from them.</summary>
internal static class RecordBody
{
    /// <summary>Bytes of the (producer, sequence, length) prefix.</summary>
    public const int HeaderLength = 12;

    /// <summary>Writes a record body of <paramref name="length"/> bytes; returns the length.</summary>
    public static int Fill(Span<byte> buffer, int producer, int sequence, int length)
    {
        BinaryPrimitives.WriteInt32LittleEndian(buffer, producer);
        BinaryPrimitives.WriteInt32LittleEndian(buffer[4..], sequence);
        BinaryPrimitives.WriteInt32LittleEndian(buffer[8..], length);
        for (int i = HeaderLength; i < length; i++)
        {
            buffer[i] = (byte)((sequence * 31) + (i * 7) + producer);
        }

        return length;
    }
}
