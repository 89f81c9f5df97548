using UintrIpc.Channels;
using UintrIpc.Signaling;

namespace UintrIpc.Tests.Signaling;

/// <summary>
/// What Doorbells.Best means on a machine where user interrupts work: the default stays futex
/// (every API works, on any thread), and uintr is an explicit choice with its restrictions.
/// </summary>
[Trait(RealUintr.TraitName, RealUintr.TraitValue)]
public sealed class UintrDefaultDoorbellTests
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Where_user_interrupts_work_the_default_channel_is_futex_and_reads_asynchronously()
    {
        RealUintr.SkipUnlessAvailable();
        Assert.True(Doorbells.IsAvailable(DoorbellKind.Uintr));
        Assert.Equal(DoorbellKind.Futex, Doorbells.Best);

        using var channel = IpcChannel.CreateBounded<long>(); // Doorbell = null: Doorbells.Best
        var consumer = channel.Reader; // on a test (possibly pool) thread: allowed
        var producer = channel.Writer;
        Assert.Equal(DoorbellKind.Futex, consumer.Doorbell);
        ValueTask<long> read = consumer.ReadAsync();
        var writer = new TestThread(() => Assert.True(producer.TryWrite(42)), "producer");
        Assert.Equal(42, await read.AsTask().WaitAsync(Long));
        writer.Join();
    }

    [Fact]
    public async Task Uintr_is_an_explicit_choice_that_refuses_pool_threads_and_async_reads_and_works_blocking()
    {
        RealUintr.SkipUnlessAvailable();
        var options = new IpcChannelOptions { Doorbell = DoorbellKind.Uintr, Wait = new ChannelWaitOptions { MaxParkTime = TimeSpan.FromSeconds(20) } };
        using var channel = IpcChannel.CreateBounded<long>(options);

        // Not on a thread-pool thread: the registration would belong to a thread that runs other work.
        await Task.Run(() => Assert.Throws<InvalidOperationException>(() => channel.Reader)).WaitAsync(Long);

        UintrTestThread.Run(() =>
        {
            // Disposed here, on its own thread: Join returns before the OS thread's exit has
            // released the registration, so disposing it afterwards on this test's thread (with
            // the channel) races with that exit and may find the receiver still registered.
            using var consumer = channel.Reader;
            Assert.Equal(DoorbellKind.Uintr, consumer.Doorbell);
#pragma warning disable CA2012 // the call must throw before it returns a ValueTask
            Assert.Throws<NotSupportedException>(() => { _ = consumer.WaitToReadAsync(); });
#pragma warning restore CA2012
            var producer = channel.Writer;
            var writer = new TestThread(() =>
            {
                var waitBlock = new WaitBlock(channel.Region);
                TestWait.Until(() => waitBlock.IsConsumerSleeping, "the consumer to announce its sleep");
                Assert.True(producer.TryWrite(7));
            }, "producer");
            Assert.Equal(7, consumer.Read(Long)); // woken by SENDUIPI from the producer thread
            writer.Join();
            Assert.Equal(0ul, consumer.Counters.Timeouts);
        });
    }
}
