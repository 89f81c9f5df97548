using System.Threading.Channels;
using BenchmarkDotNet.Attributes;
using UintrIpc.Channels;

namespace UintrIpc.Benchmarks.Channels;

// Single-thread costs of the channel API over its rings: a write followed by a read (the ring
// never fills, the consumer never sleeps, so no system call), through the blocking-free, span,
// async and System.Threading.Channels forms. The difference to the ring benchmarks is what the
// channel adds (completion check, wake check, dispose checks). A bounded in-process
// System.Threading.Channels channel is the baseline. [MemoryDiagnoser] proves 0 B per message.

/// <summary>Slot and message channels: write+read pairs, single thread, consumer awake.</summary>
[MemoryDiagnoser]
public class ChannelBenchmarks
{
    private const int Operations = 1024;
    private const int BatchSize = 32;

    private readonly long[] _batch = new long[BatchSize];
    private readonly byte[] _payload = new byte[64];
    private readonly byte[] _buffer = new byte[1024];
    private Channel<long> _baseline = null!;
    private IpcChannel<long> _channel = null!;
    private IpcChannelReader<long> _consumer = null!;
    private IpcChannelWriter<long> _producer = null!;
    private ChannelReader<long> _reader = null!;
    private ChannelWriter<long> _writer = null!;
    private IpcMessageChannel _messages = null!;
    private IpcMessageReader _messageConsumer = null!;
    private IpcMessageWriter _messageProducer = null!;
    private long _item;

    [GlobalSetup]
    public void Setup()
    {
        _baseline = Channel.CreateBounded<long>(new BoundedChannelOptions(1024) { SingleReader = true, SingleWriter = true });
        var options = new IpcChannelOptions { Capacity = 1024, Doorbell = DoorbellKind.Futex };
        _channel = IpcChannel.CreateBounded<long>(options);
        _consumer = _channel.Reader;
        _producer = _channel.Writer;
        _reader = _consumer;
        _writer = _producer;
        _messages = IpcChannel.CreateMessages(options with { BufferSize = 64 * 1024 });
        _messageConsumer = _messages.Reader;
        _messageProducer = _messages.Writer;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _channel.Dispose(); // and its reader and writer
        _messages.Dispose();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Operations)]
    public void BoundedChannelTryWriteTryRead()
    {
        for (int i = 0; i < Operations; i++)
        {
            _baseline.Writer.TryWrite(_item);
            _baseline.Reader.TryRead(out _item);
        }
    }

    [Benchmark(OperationsPerInvoke = Operations)]
    public void SlotTryWriteTryRead()
    {
        for (int i = 0; i < Operations; i++)
        {
            _producer.TryWrite(_item);
            _consumer.TryRead(out _item);
        }
    }

    [Benchmark(OperationsPerInvoke = Operations)]
    public void SlotTryWriteTryReadBatch32()
    {
        for (int i = 0; i < Operations; i += BatchSize)
        {
            _producer.TryWrite(_batch);
            _consumer.TryRead(_batch);
        }
    }

    [Benchmark(OperationsPerInvoke = Operations)]
    public void SlotAsChannelWriterReader() // through the System.Threading.Channels base types (virtual calls)
    {
        for (int i = 0; i < Operations; i++)
        {
            _writer.TryWrite(_item);
            _reader.TryRead(out _item);
        }
    }

    [Benchmark(OperationsPerInvoke = Operations)]
    public async Task SlotWriteAsyncReadAsync()
    {
        for (int i = 0; i < Operations; i++)
        {
            await _producer.WriteAsync(_item);
            _item = await _consumer.ReadAsync();
        }
    }

    [Benchmark(OperationsPerInvoke = Operations)]
    public void Message64TryWriteTryRead()
    {
        for (int i = 0; i < Operations; i++)
        {
            _messageProducer.TryWrite(1, _payload);
            _messageConsumer.TryRead(out _, _buffer, out _);
        }
    }

    [Benchmark(OperationsPerInvoke = Operations)]
    public int Message64ClaimCommitRead()
    {
        var handler = new LengthHandler();
        for (int i = 0; i < Operations; i++)
        {
            if (_messageProducer.TryClaim(1, 64, out MessageClaim claim))
            {
                claim.Payload[0] = 1;
                claim.Commit();
            }

            _messageConsumer.Read(ref handler, 1);
        }

        return handler.Total;
    }

    private struct LengthHandler : UintrIpc.Channels.IRecordHandler
    {
        public int Total;

        public void Handle(int type, ReadOnlySpan<byte> payload) => Total += payload.Length;
    }
}
