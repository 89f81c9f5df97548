using UintrIpc.Channels;
using UintrIpc.Rings;
using UintrIpc.Signaling;

namespace UintrIpc.Tests.Channels;

/// <summary>
/// One channel (region, consumer, producer) seen through long values, so that one contract
/// suite covers slot channels (IpcChannel&lt;long&gt;) and message channels (IpcMessageChannel,
/// where a value travels as an 8-byte payload with type value % 7, checked on the way out).
/// Create it on the thread that will do the blocking reads: signal and uintr doorbells bind to it.
/// </summary>
internal abstract class ChannelUnderTest : IDisposable
{
    public abstract DoorbellKind Doorbell { get; }

    /// <summary>Messages the ring holds.</summary>
    public abstract int Capacity { get; }

    public abstract WaitBlockCounters Counters { get; }

    public abstract bool IsConsumerCompleted { get; }

    public abstract bool IsChannelCompleted { get; }

    /// <summary>The channel's region (its descriptor goes to producers in other processes).</summary>
    public abstract UintrIpc.Memory.SharedRegion Region { get; }

    /// <summary>The consumer's doorbell descriptor (eventfd, uintr), or null.</summary>
    public abstract System.Runtime.InteropServices.SafeHandle? DoorbellFd { get; }

    /// <summary>The region's wait block, for watching the consumer's state.</summary>
    public abstract WaitBlock WaitBlock { get; }

    /// <param name="localWriter">Creates the writer here at once (false: on first use; a single-writer channel handed to a writer process must have none here).</param>
    public static ChannelUnderTest Create(bool messages, DoorbellKind doorbell, bool multipleProducers, int capacity, ChannelWaitOptions? wait = null, bool checksums = false, bool localWriter = true)
    {
        var options = new IpcChannelOptions
        {
            Capacity = capacity,
            // 16 bytes per message (8 header + 8 payload): exactly `capacity` messages, no padding.
            // With checksums 32 (8 header + 20 payload + 4 checksum): exactly `capacity` again.
            BufferSize = capacity * (checksums ? 32 : 16),
            MaxMessageLength = checksums ? MessageChannelUnderTest.ChecksumPayload : 8,
            MultipleWriters = multipleProducers,
            Doorbell = doorbell,
            Wait = wait ?? ChannelWaitOptions.Default,
            Checksums = checksums,
        };
        return messages ? new MessageChannelUnderTest(options, localWriter) : new SlotChannelUnderTest(options, localWriter);
    }

    // ---- consumer
    public abstract bool TryRead(out long value);

    public abstract int TryRead(Span<long> values);

    public abstract bool TryRead(out long value, TimeSpan timeout);

    public abstract long Read(TimeSpan timeout);

    public abstract bool WaitToRead(TimeSpan timeout);

    public abstract ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken = default);

    public abstract ValueTask<long> ReadAsync(CancellationToken cancellationToken = default);

    public abstract void DisposeConsumer();

    // ---- producer
    public abstract bool TryWrite(long value);

    public abstract int TryWrite(ReadOnlySpan<long> values);

    public abstract bool TryWrite(long value, TimeSpan timeout);

    /// <summary>The writer's WaitToWrite for room for one value (a message channel: one record's bytes).</summary>
    public abstract bool WaitToWrite(TimeSpan timeout);

    public abstract ValueTask WriteAsync(long value, CancellationToken cancellationToken = default);

    public abstract bool TryComplete();

    public abstract void Dispose();

    protected static int TypeOf(long value) => (int)((ulong)value % 7);
}

internal sealed class SlotChannelUnderTest : ChannelUnderTest
{
    public SlotChannelUnderTest(IpcChannelOptions options, bool localWriter)
    {
        Channel = IpcChannel.CreateBounded<long>(options);
        Consumer = Channel.Reader;
        if (localWriter)
        {
            _ = Channel.Writer;
        }

        WaitBlock = new WaitBlock(Channel.Region);
    }

    public IpcChannel<long> Channel { get; }

    public IpcChannelReader<long> Consumer { get; }

    /// <summary>The writer, created with the channel unless it goes to a writer process (SendChannel refuses a single-writer channel with a writer here).</summary>
    public IpcChannelWriter<long> Producer => Channel.Writer;

    public override WaitBlock WaitBlock { get; }

    public override UintrIpc.Memory.SharedRegion Region => Channel.Region;

    public override System.Runtime.InteropServices.SafeHandle? DoorbellFd => Consumer.Core.DoorbellFd;

    public override DoorbellKind Doorbell => Consumer.Doorbell;

    public override int Capacity => Channel.Capacity;

    public override WaitBlockCounters Counters => Consumer.Counters;

    public override bool IsConsumerCompleted => Consumer.IsCompleted;

    public override bool IsChannelCompleted => Channel.IsCompleted;

    public override bool TryRead(out long value) => Consumer.TryRead(out value);

    public override int TryRead(Span<long> values) => Consumer.TryRead(values);

    public override bool TryRead(out long value, TimeSpan timeout) => Consumer.TryRead(out value, timeout);

    public override long Read(TimeSpan timeout) => Consumer.Read(timeout);

    public override bool WaitToRead(TimeSpan timeout) => Consumer.WaitToRead(timeout);

    public override ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken = default) => Consumer.WaitToReadAsync(cancellationToken);

    public override ValueTask<long> ReadAsync(CancellationToken cancellationToken = default) => Consumer.ReadAsync(cancellationToken);

    public override void DisposeConsumer() => Consumer.Dispose();

    public override bool TryWrite(long value) => Producer.TryWrite(value);

    public override int TryWrite(ReadOnlySpan<long> values) => Producer.TryWrite(values);

    public override bool TryWrite(long value, TimeSpan timeout) => Producer.TryWrite(value, timeout);

    public override bool WaitToWrite(TimeSpan timeout) => Producer.WaitToWrite(timeout);

    public override ValueTask WriteAsync(long value, CancellationToken cancellationToken = default) => Producer.WriteAsync(value, cancellationToken);

    public override bool TryComplete() => Producer.TryComplete();

    public override void Dispose() => Channel.Dispose(); // the writer (if created), the reader, the region
}

internal sealed class MessageChannelUnderTest : ChannelUnderTest
{
    /// <summary>With checksums a value travels in 20 bytes (value, ~value, type), so that a record takes 32 bytes.</summary>
    public const int ChecksumPayload = 20;
    private readonly byte[] _buffer = new byte[ChecksumPayload];
    private readonly int _payloadLength;

    public MessageChannelUnderTest(IpcChannelOptions options, bool localWriter)
    {
        _payloadLength = options.Checksums ? ChecksumPayload : 8;
        RecordBytes = options.Checksums ? 32 : 16;
        Channel = IpcChannel.CreateMessages(options);
        Consumer = Channel.Reader;
        if (localWriter)
        {
            _ = Channel.Writer;
        }

        WaitBlock = new WaitBlock(Channel.Region);
    }

    public IpcMessageChannel Channel { get; }

    public IpcMessageReader Consumer { get; }

    /// <summary>The writer, created with the channel unless it goes to a writer process (SendChannel refuses a single-writer channel with a writer here).</summary>
    public IpcMessageWriter Producer => Channel.Writer;

    public override WaitBlock WaitBlock { get; }

    public override UintrIpc.Memory.SharedRegion Region => Channel.Region;

    public override System.Runtime.InteropServices.SafeHandle? DoorbellFd => Consumer.Core.DoorbellFd;

    public override DoorbellKind Doorbell => Consumer.Doorbell;

    public override int Capacity => Channel.BufferSize / (_payloadLength == 8 ? 16 : 32);

    public override WaitBlockCounters Counters => Consumer.Counters;

    public override bool IsConsumerCompleted => Consumer.IsCompleted;

    public override bool IsChannelCompleted => Channel.IsCompleted;

    public override bool TryRead(out long value) => Decode(Consumer.TryRead(out int type, _buffer, out int length), type, length, out value);

    public override int TryRead(Span<long> values)
    {
        var handler = new Collect(values.Length);
        int n = Consumer.Read(ref handler, values.Length);
        handler.Values.AsSpan(0, n).CopyTo(values);
        return n;
    }

    public override bool TryRead(out long value, TimeSpan timeout)
        => Decode(Consumer.TryRead(out int type, _buffer, out int length, timeout), type, length, out value);

    public override long Read(TimeSpan timeout)
    {
        // The handler form of a blocking read; the contract's exceptions are the slot channel's.
        var handler = new Collect(1);
        if (Consumer.Read(ref handler, 1, timeout) == 1)
        {
            return handler.Values[0];
        }

        throw Consumer.IsCompleted ? new System.Threading.Channels.ChannelClosedException() : new TimeoutException();
    }

    public override bool WaitToRead(TimeSpan timeout) => Consumer.WaitToRead(timeout);

    public override ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken = default) => Consumer.WaitToReadAsync(cancellationToken);

    public override async ValueTask<long> ReadAsync(CancellationToken cancellationToken = default)
    {
        IpcMessage message = await Consumer.ReadAsync(cancellationToken);
        return Decode(message.Type, message.Payload.Span);
    }

    public override void DisposeConsumer() => Consumer.Dispose();

    public override bool TryWrite(long value)
    {
        // Even values by copy, odd ones through a claim: both publish paths wake the consumer.
        if (value % 2 == 0)
        {
            return Producer.TryWrite(TypeOf(value), Encode(value));
        }

        if (!Producer.TryClaim(TypeOf(value), _payloadLength, out MessageClaim claim))
        {
            return false;
        }

        Encode(value).CopyTo(claim.Payload);
        claim.Commit();
        return true;
    }

    public override int TryWrite(ReadOnlySpan<long> values)
    {
        int n = 0;
        while (n < values.Length && TryWrite(values[n]))
        {
            n++;
        }

        return n;
    }

    public override bool TryWrite(long value, TimeSpan timeout) => Producer.TryWrite(TypeOf(value), Encode(value), timeout);

    /// <summary>The bytes one value's record takes (8 header + payload, with checksums 4 more, aligned to 8).</summary>
    public int RecordBytes { get; }

    public override bool WaitToWrite(TimeSpan timeout) => Producer.WaitToWrite(RecordBytes, timeout);

    public override ValueTask WriteAsync(long value, CancellationToken cancellationToken = default)
        => Producer.WriteAsync(TypeOf(value), Encode(value), cancellationToken);

    public override bool TryComplete() => Producer.TryComplete();

    public override void Dispose() => Channel.Dispose(); // the writer (if created), the reader, the region

    private bool Decode(bool read, int type, int length, out long value)
    {
        value = 0;
        if (!read)
        {
            return false;
        }

        value = Decode(type, _buffer.AsSpan(0, length));
        return true;
    }

    /// <summary>8 bytes (a peer process writes these too), or with checksums 20: value, ~value, type.</summary>
    private byte[] Encode(long value)
    {
        byte[] payload = new byte[_payloadLength];
        BitConverter.TryWriteBytes(payload, value);
        if (_payloadLength == ChecksumPayload)
        {
            BitConverter.TryWriteBytes(payload.AsSpan(8), ~value);
            BitConverter.TryWriteBytes(payload.AsSpan(16), TypeOf(value));
        }

        return payload;
    }

    private static long Decode(int type, ReadOnlySpan<byte> payload)
    {
        Assert.True(payload.Length is 8 or ChecksumPayload, $"a payload of {payload.Length} bytes");
        long value = BitConverter.ToInt64(payload);
        Assert.Equal(TypeOf(value), type);
        if (payload.Length == ChecksumPayload)
        {
            Assert.Equal(~value, BitConverter.ToInt64(payload[8..]));
            Assert.Equal(type, BitConverter.ToInt32(payload[16..]));
        }

        return value;
    }

    private struct Collect(int capacity) : IRecordHandler
    {
        public readonly long[] Values = new long[capacity];
        private int _count;

        public void Handle(int type, ReadOnlySpan<byte> payload) => Values[_count++] = Decode(type, payload);
    }
}
