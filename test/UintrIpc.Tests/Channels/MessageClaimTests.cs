using UintrIpc.Channels;
using UintrIpc.Signaling;
using UintrIpc.Tests.Signaling;

namespace UintrIpc.Tests.Channels;

/// <summary>Issue 7, finding 6: a message claim is disposable, and disposing an open claim aborts it.</summary>
public sealed class MessageClaimTests
{
    private static readonly IpcChannelOptions Mpsc = new()
    {
        BufferSize = 1024,
        MultipleWriters = true,
        Doorbell = DoorbellKind.Futex,
        Wait = new ChannelWaitOptions { MaxParkTime = TimeSpan.FromSeconds(30) },
    };

    [Fact]
    public void A_claim_abandoned_by_an_exception_inside_using_does_not_stall_the_other_producers()
    {
        using var channel = IpcChannel.CreateMessages(Mpsc);
        var consumer = channel.Reader;
        var first = channel.Writer;
        var second = channel.Writer;

        Assert.Throws<InvalidOperationException>(() => WriteAndFail(first));
        Assert.True(second.TryWrite(2, [22]));

        // The aborted claim is padding now: the second producer's message is readable at once.
        var buffer = new byte[8];
        Assert.True(consumer.TryRead(out int type, buffer, out int length));
        Assert.Equal((2, 1, (byte)22), (type, length, buffer[0]));
        Assert.False(consumer.TryRead(out _, buffer, out _));

        static void WriteAndFail(IpcMessageWriter producer)
        {
            Assert.True(producer.TryClaim(1, 4, out MessageClaim claim));
            using (claim)
            {
                claim.Payload.Fill(0xEE);
                throw new InvalidOperationException("the writer failed before Commit");
            }
        }
    }

    [Fact]
    public void Disposing_a_committed_claim_keeps_the_message_and_disposing_twice_is_harmless()
    {
        using var channel = IpcChannel.CreateMessages(Mpsc);
        var consumer = channel.Reader;
        var producer = channel.Writer;

        Assert.True(producer.TryClaim(3, 1, out MessageClaim claim));
        using (claim)
        {
            claim.Payload[0] = 33;
            claim.Commit();
        }

        claim.Dispose();
        default(MessageClaim).Dispose();
        Assert.True(claim.IsCompleted);
        Assert.Throws<InvalidOperationException>(() => CommitAgain(producer)); // a copy cannot complete it twice
        var buffer = new byte[8];
        Assert.True(consumer.TryRead(out int type, buffer, out int length));
        Assert.Equal((3, 1, (byte)33), (type, length, buffer[0]));
    }

    private static void CommitAgain(IpcMessageWriter producer)
    {
        Assert.True(producer.TryClaim(4, 1, out MessageClaim claim));
        MessageClaim copy = claim;
        claim.Commit();
        copy.Commit();
    }

    [Fact]
    public void An_abort_wakes_a_consumer_that_sleeps_behind_the_claim()
    {
        using var channel = IpcChannel.CreateMessages(Mpsc);
        var consumer = channel.Reader;
        var first = channel.Writer;
        var second = channel.Writer;
        var waitBlock = new WaitBlock(channel.Region);
        Assert.True(first.TryClaim(1, 8, out MessageClaim claim));
        var parts = claim; // ref struct: keep it on this thread
        int read = -1;

        var reader = new TestThread(() =>
        {
            var buffer = new byte[8];
            read = consumer.TryRead(out int type, buffer, out _, TimeSpan.FromSeconds(20)) ? type : -2;
        }, "consumer");

        TestWait.Until(() => waitBlock.IsConsumerSleeping, "the consumer to sleep");
        Assert.True(second.TryWrite(2, [1])); // behind the open claim: wakes the consumer, which sleeps again
        TestWait.Until(() => waitBlock.ReadCounters().Sleeps >= 1 && waitBlock.IsConsumerSleeping, "the consumer to sleep behind the claim");
        parts.Dispose(); // aborts: padding, and a wake-up
        reader.Join();

        Assert.Equal(2, read);
        Assert.Equal(0ul, consumer.Counters.Timeouts);
    }
}
