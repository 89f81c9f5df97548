using UintrIpc.Channels;
using UintrIpc.Memory;
using UintrIpc.Rings;

namespace UintrIpc.Tests.Rings;

/// <summary>A record ring of one mode (SPSC or MPSC) behind one face, so one suite tests both modes.</summary>
internal abstract class RecordRingUnderTest
{
    public abstract RecordRing Ring { get; }
    public abstract bool MultiProducer { get; }
    public abstract int Capacity { get; }
    public abstract int MaxMessageLength { get; }
    public abstract bool CanRead { get; }
    public abstract long ProducerPosition { get; }
    public abstract long ConsumerPosition { get; }

    public abstract bool TryWrite(int type, ReadOnlySpan<byte> payload);
    public abstract bool TryClaim(int type, int length, out RecordClaim claim);
    public abstract int Read<THandler>(ref THandler handler, int limit = int.MaxValue) where THandler : struct, IRecordHandler, allows ref struct;
    public abstract bool TryRead(out int type, Span<byte> destination, out int length);

    /// <summary>Reads everything waiting, as (type, payload) pairs.</summary>
    public List<(int Type, byte[] Payload)> Drain(int limit = int.MaxValue)
    {
        var handler = new CollectingHandler(new List<(int, byte[])>());
        Read(ref handler, limit);
        return handler.Messages;
    }

    /// <summary>Reads up to <paramref name="limit"/> messages through one pull batch (RecordRing.TryReadBatch), completed after them.</summary>
    public List<(int Type, byte[] Payload)> DrainBatch(int limit = int.MaxValue)
    {
        var messages = new List<(int, byte[])>();
        if (Ring.TryReadBatch(limit, out RecordCursor batch))
        {
            while (batch.TryNext(out int type, out ReadOnlySpan<byte> payload))
            {
                messages.Add((type, payload.ToArray()));
            }

            Assert.Equal(messages.Count, batch.Count);
            Ring.CompleteBatch(batch);
        }

        return messages;
    }

    public static RecordRingUnderTest Attach(PartKind kind, SharedRegion region, uint tag = 0) => kind switch
    {
        PartKind.SpscRecords => new Spsc(new RecordRing(region, tag)),
        PartKind.MpscRecords => new Mpsc(new RecordRing(region, tag)),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    public static PartSpec Part(PartKind kind, int capacity, int maxMessageLength = 0, uint tag = 0) => kind switch
    {
        PartKind.SpscRecords => RecordRing.Part(capacity, maxMessageLength, tag: tag),
        PartKind.MpscRecords => RecordRing.Part(capacity, maxMessageLength, multipleProducers: true, tag: tag),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    internal sealed class Spsc(RecordRing ring) : RecordRingUnderTest
    {
        public override RecordRing Ring => ring;
        public override bool MultiProducer => false;
        public override int Capacity => ring.Capacity;
        public override int MaxMessageLength => ring.MaxMessageLength;
        public override bool CanRead => ring.CanRead;
        public override long ProducerPosition => ring.ProducerPosition;
        public override long ConsumerPosition => ring.ConsumerPosition;
        public override bool TryWrite(int type, ReadOnlySpan<byte> payload) => ring.TryWrite(type, payload);
        public override bool TryClaim(int type, int length, out RecordClaim claim) => ring.TryClaim(type, length, out claim);
        public override int Read<THandler>(ref THandler handler, int limit = int.MaxValue) => ring.Read(ref handler, limit);
        public override bool TryRead(out int type, Span<byte> destination, out int length) => ring.TryRead(out type, destination, out length);
    }

    internal sealed class Mpsc(RecordRing ring) : RecordRingUnderTest
    {
        public override RecordRing Ring => ring;
        public override bool MultiProducer => true;
        public override int Capacity => ring.Capacity;
        public override int MaxMessageLength => ring.MaxMessageLength;
        public override bool CanRead => ring.CanRead;
        public override long ProducerPosition => ring.ProducerPosition;
        public override long ConsumerPosition => ring.ConsumerPosition;
        public override bool TryWrite(int type, ReadOnlySpan<byte> payload) => ring.TryWrite(type, payload);
        public override bool TryClaim(int type, int length, out RecordClaim claim) => ring.TryClaim(type, length, out claim);
        public override int Read<THandler>(ref THandler handler, int limit = int.MaxValue) => ring.Read(ref handler, limit);
        public override bool TryRead(out int type, Span<byte> destination, out int length) => ring.TryRead(out type, destination, out length);
    }
}

/// <summary>Collects copies of every message (allocates: tests only).</summary>
internal struct CollectingHandler(List<(int Type, byte[] Payload)> messages) : IRecordHandler
{
    public readonly List<(int Type, byte[] Payload)> Messages => messages;

    public readonly void Handle(int type, ReadOnlySpan<byte> payload) => messages.Add((type, payload.ToArray()));
}

/// <summary>Throws from the handler on the message number <see cref="ThrowAt"/> (0-based).</summary>
internal struct ThrowingHandler : IRecordHandler
{
    public int ThrowAt;
    public int Seen;

    public void Handle(int type, ReadOnlySpan<byte> payload)
    {
        if (Seen++ == ThrowAt)
        {
            throw new InvalidOperationException("handler failed");
        }
    }
}

/// <summary>Raw access to a record ring part, to check the memory image and to play a hostile peer.</summary>
internal sealed unsafe class RecordRingMemory(SharedRegion region, RegionPart part)
{
    private readonly byte* _ring = region.PartPointer(part);

    public RecordRingMemory(SharedRegion region, PartKind kind, uint tag = 0)
        : this(region, region.FindPart(kind, tag))
    {
    }

    public int Capacity => (int)*(ulong*)(_ring + RingLayout.CapacityOffset);

    public byte* Data => _ring + RingLayout.ControlSize;

    public byte* Descriptor => _ring;

    public long Head
    {
        get => Volatile.Read(ref *(long*)(_ring + RingLayout.HeadOffset));
        set => Volatile.Write(ref *(long*)(_ring + RingLayout.HeadOffset), value);
    }

    public long Tail
    {
        get => Volatile.Read(ref *(long*)(_ring + RingLayout.TailOffset));
        set => Volatile.Write(ref *(long*)(_ring + RingLayout.TailOffset), value);
    }

    public int LengthAt(int index) => Volatile.Read(ref *(int*)(Data + index));

    public int TypeAt(int index) => *(int*)(Data + index + 4);

    public void WriteHeader(int index, int length, int type)
    {
        *(int*)(Data + index + 4) = type;
        Volatile.Write(ref *(int*)(Data + index), length);
    }

    public ReadOnlySpan<byte> Bytes(int index, int count) => new(Data + index, count);

    /// <summary>Whether every byte of the data area outside the ring positions [from, to) is zero.</summary>
    public bool FreeSpaceIsZero(long from, long to)
    {
        int capacity = Capacity;
        for (long p = to; p < from + capacity; p++)
        {
            if (Data[(int)(p & (capacity - 1))] != 0)
            {
                return false;
            }
        }

        return true;
    }
}

internal static class ClaimAssert
{
    /// <summary>Completing the claim throws InvalidOperationException (a lambda cannot capture a ref struct).</summary>
    public static void CompleteThrows(ref RecordClaim claim, bool commit)
    {
        try
        {
            if (commit)
            {
                claim.Commit();
            }
            else
            {
                claim.Abort();
            }
        }
        catch (InvalidOperationException)
        {
            return;
        }

        Assert.Fail($"{(commit ? "Commit" : "Abort")} should have thrown InvalidOperationException.");
    }

    public static byte[] Pattern(int length, int seed)
    {
        var bytes = new byte[length];
        for (int i = 0; i < bytes.Length; i++)
        {
            bytes[i] = (byte)((seed * 31) + (i * 7) + 1);
        }

        return bytes;
    }
}
