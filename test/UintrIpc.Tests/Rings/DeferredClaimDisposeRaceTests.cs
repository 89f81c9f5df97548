using UintrIpc.Memory;
using UintrIpc.Rings;

namespace UintrIpc.Tests.Rings;

/// <summary>
/// A claim of the cached producer thread whose markers are deferred (uintripc.h 2d) that races
/// with the ring's Dispose on another thread (an IpcChannelWriter's waiting write does this by
/// design): Dispose marks only the deferred claim it saw, and ends the registration, so a claim
/// taken just after its look would hold no marker and be covered only by an ended registration's
/// intent, which attributes nothing (2f b): the consumer would wait at it for good. Likewise a
/// claim whose deferral Dispose erased: Dispose read the writer's previous, completed claim (its
/// clear still in the writer's store buffer) and cleared the word after the writer's next claim
/// (race in docs/design-notes.md: 43 of 200 rounds stalled on a build that widens that window).
/// </summary>
public sealed class DeferredClaimDisposeRaceTests(ITestOutputHelper output)
{
    [Fact]
    public void A_claim_that_raced_with_Dispose_never_stalls_the_consumer()
    {
        const int Rounds = 200;
        int stalled = 0;
        for (int round = 0; round < Rounds; round++)
        {
            using var region = SharedRegion.CreateAnonymous(SlotRing<long>.Part(1 << 16, multipleProducers: true));
            using var consumer = new SlotRing<long>(region);
            var producer = new SlotRing<long>(region);
            using var started = new ManualResetEventSlim();
            var writer = new Thread(() =>
            {
                started.Set();
                try
                {
                    for (long i = 0; i < 1 << 15; i++) // at most half the ring: never full
                    {
                        Assert.True(producer.TryClaim(out SlotClaim<long> claim));
                        claim.Item = i;
                        claim.Publish();
                    }
                }
                catch (ObjectDisposedException)
                {
                    // the ring was disposed under the loop: what it claimed must not hold the consumer up
                }
            });
            writer.Start();
            started.Wait();
            Thread.SpinWait(Random.Shared.Next(100, 5000));
            producer.Dispose();
            Assert.True(writer.Join(TimeSpan.FromSeconds(60)), "the writer did not stop");

            // Everything claimed is read or skipped (a marker of the ended registration is a dead one's).
            long tail = consumer.ProducerPosition;
            long expected = 0;
            while (consumer.ConsumerPosition < tail)
            {
                if (consumer.TryRead(out long item))
                {
                    Assert.Equal(expected++, item);
                }
                else if (!consumer.TrySkipDeadClaim())
                {
                    stalled++;
                    output.WriteLine($"round {round}: stalled at {consumer.ConsumerPosition}, tail {tail}");
                    break;
                }
                else
                {
                    expected = consumer.ConsumerPosition; // the skipped claim was the loop's last
                }
            }
        }

        Assert.Equal(0, stalled);
    }
}
