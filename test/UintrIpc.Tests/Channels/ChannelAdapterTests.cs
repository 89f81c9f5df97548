using System.Threading.Channels;
using UintrIpc.Channels;
using UintrIpc.Signaling;

namespace UintrIpc.Tests.Channels;

/// <summary>
/// The reader and writer seen as System.Threading.Channels' ChannelReader/ChannelWriter, checked
/// against that contract (cases after dotnet/runtime's ChannelTestBase), per async-capable doorbell.
/// </summary>
public abstract class ChannelAdapterTests
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(20);

    private protected abstract DoorbellKind Doorbell { get; }

    /// <summary>Whether the channel carries message checksums: the adapters' contract holds with them too.</summary>
    private protected virtual bool Checksums => false;

    [Fact]
    public void The_reader_and_writer_are_reused_and_count()
    {
        using var f = Open();
        Assert.Same(f.Reader, f.Channel.Reader);
        Assert.Same(f.Writer, f.Channel.Writer);
        Assert.True(f.Reader.CanCount);
        Assert.False(f.Reader.CanPeek);
        Assert.True(f.Writer.TryWrite(1));
        Assert.True(f.Writer.TryWrite(2));
        Assert.Equal(2, f.Reader.Count);
    }

    [Fact]
    public void TryRead_TryWrite_round_trip()
    {
        using var f = Open();
        Assert.False(f.Reader.TryRead(out _));
        Assert.True(f.Writer.TryWrite(42));
        Assert.True(f.Reader.TryRead(out long value));
        Assert.Equal(42, value);
    }

    [Fact]
    public async Task WaitToReadAsync_completes_when_an_item_is_written()
    {
        using var f = Open();
        ValueTask<bool> wait = f.Reader.WaitToReadAsync();
        Assert.False(wait.IsCompleted);
        Assert.True(f.Writer.TryWrite(3));
        Assert.True(await wait.AsTask().WaitAsync(Long));
        Assert.True(f.Reader.TryRead(out long value));
        Assert.Equal(3, value);
    }

    [Fact]
    public async Task Completion_completes_after_the_writer_completes_and_the_reader_drains()
    {
        using var f = Open();
        Assert.True(f.Writer.TryWrite(1));
        Assert.True(f.Writer.TryComplete());
        Assert.False(f.Writer.TryComplete());
        Assert.False(f.Reader.Completion.IsCompleted); // one item left
        Assert.True(await f.Reader.WaitToReadAsync().AsTask().WaitAsync(Long));
        Assert.Equal(1, await f.Reader.ReadAsync().AsTask().WaitAsync(Long));
        Assert.False(f.Reader.TryRead(out _));
        await f.Reader.Completion.WaitAsync(Long);
        Assert.False(await f.Reader.WaitToReadAsync().AsTask().WaitAsync(Long));
        await Assert.ThrowsAsync<ChannelClosedException>(() => f.Reader.ReadAsync().AsTask().WaitAsync(Long));
    }

    [Fact]
    public async Task A_pending_WaitToReadAsync_returns_false_on_completion()
    {
        using var f = Open();
        ValueTask<bool> wait = f.Reader.WaitToReadAsync();
        Assert.True(f.Writer.TryComplete());
        Assert.False(await wait.AsTask().WaitAsync(Long));
        await f.Reader.Completion.WaitAsync(Long);
    }

    [Fact]
    public async Task Writes_after_completion_fail()
    {
        using var f = Open();
        f.Writer.Complete();
        Assert.False(f.Writer.TryWrite(1));
        Assert.False(await f.Writer.WaitToWriteAsync().AsTask().WaitAsync(Long));
        await Assert.ThrowsAsync<ChannelClosedException>(() => f.Writer.WriteAsync(1).AsTask().WaitAsync(Long));
        Assert.Throws<ChannelClosedException>(() => f.Writer.Complete());
    }

    [Fact]
    public async Task WaitToWriteAsync_waits_for_room()
    {
        using var f = Open(capacity: 4);
        for (int i = 0; i < 4; i++)
        {
            Assert.True(f.Writer.TryWrite(i));
        }

        Assert.False(f.Writer.TryWrite(4));
        ValueTask<bool> room = f.Writer.WaitToWriteAsync();
        Assert.False(room.IsCompleted);
        Assert.True(f.Reader.TryRead(out _));
        Assert.True(await room.AsTask().WaitAsync(Long));
        Assert.True(f.Writer.TryWrite(4));
    }

    [Fact]
    public async Task A_cancelled_ReadAsync_throws_and_consumes_nothing()
    {
        using var f = Open();
        using var cts = new CancellationTokenSource();
        ValueTask<long> read = f.Reader.ReadAsync(cts.Token);
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => read.AsTask().WaitAsync(Long));
        Assert.True(f.Writer.TryWrite(9));
        Assert.Equal(9, await f.Reader.ReadAsync().AsTask().WaitAsync(Long));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => f.Reader.ReadAsync(new CancellationToken(true)).AsTask());
    }

    [Fact]
    public async Task A_producer_task_and_a_ReadAllAsync_consumer_move_every_item()
    {
        using var f = Open(capacity: 8);
        const int Count = 5000;
        Task producer = Task.Run(async () =>
        {
            for (long i = 1; i <= Count; i++)
            {
                await f.Writer.WriteAsync(i);
            }

            f.Writer.Complete();
        });

        long sum = 0, count = 0, last = 0;
        await foreach (long item in f.Reader.ReadAllAsync().WithCancellation(new CancellationTokenSource(Long).Token))
        {
            Assert.Equal(last + 1, item);
            last = item;
            sum += item;
            count++;
        }

        await producer.WaitAsync(Long);
        Assert.Equal(Count, count);
        Assert.Equal((long)Count * (Count + 1) / 2, sum);
        Assert.True(f.Reader.Completion.IsCompleted);
    }

    private Fixture Open(int capacity = 16)
    {
        Assert.SkipUnless(Doorbells.IsAvailable(Doorbell), Doorbells.Check(Doorbell).ToString());
        return new Fixture(new IpcChannelOptions { Capacity = capacity, Doorbell = Doorbell, Checksums = Checksums, Wait = new ChannelWaitOptions { MaxParkTime = TimeSpan.FromSeconds(30) } });
    }

    private sealed class Fixture : IDisposable
    {
        public Fixture(IpcChannelOptions options)
        {
            Channel = IpcChannel.CreateBounded<long>(options);
            Consumer = Channel.Reader;
            Producer = Channel.Writer;
            Reader = Consumer;
            Writer = Producer;
        }

        public IpcChannel<long> Channel { get; }

        public IpcChannelReader<long> Consumer { get; }

        public IpcChannelWriter<long> Producer { get; }

        public ChannelReader<long> Reader { get; }

        public ChannelWriter<long> Writer { get; }

        public void Dispose()
        {
            Producer.Dispose();
            Consumer.Dispose();
            Channel.Dispose();
        }
    }
}

public sealed class FutexChannelAdapterTests : ChannelAdapterTests
{
    private protected override DoorbellKind Doorbell => DoorbellKind.Futex;
}

public sealed class EventFdChannelAdapterTests : ChannelAdapterTests
{
    private protected override DoorbellKind Doorbell => DoorbellKind.EventFd;
}

public sealed class FutexChecksumChannelAdapterTests : ChannelAdapterTests
{
    private protected override DoorbellKind Doorbell => DoorbellKind.Futex;

    private protected override bool Checksums => true;
}
