using UintrIpc.Channels;
using UintrIpc.Memory;
using UintrIpc.Rings;

namespace UintrIpc.Tests.Rings;

/// <summary>
/// Drain of an MPSC slot ring against a model, over many random rounds: published batches,
/// aborted claims (skipped slots) before, between and after elements, an open claim that stops
/// the drain, and limits from 1 up. Each drain hands over exactly the model's next elements, in
/// order, returns their count (skipped slots are not counted), and leaves the consumer where the
/// model says: after the skipped slots it stepped over, but not over those after its last
/// element when the limit stopped it.
/// </summary>
public sealed class SlotDrainModelTests
{
    private const int Capacity = 32;

    [Fact]
    public void Mpsc_drain_with_random_limits_over_random_skips_hands_over_what_the_model_says()
    {
        using var region = SharedRegion.CreateAnonymous(SlotRing<long>.Part(Capacity, true));
        using var ring = new SlotRing<long>(region);
        var random = new Random(20261205);
        var model = new Queue<long?>(); // a published element, or null: a skipped slot
        long next = 0;
        int skipsAtLimit = 0;
        for (int round = 0; round < 3000; round++)
        {
            // Fill: batches published or aborted, while there is room; maybe an open claim last.
            for (int step = random.Next(1, 6); step > 0; step--)
            {
                if (!ring.TryClaim(random.Next(1, 6), out SlotBatch<long> batch))
                {
                    break;
                }

                try
                {
                    int count = batch.Count;
                    if (random.Next(3) == 0)
                    {
                        batch.Abort();
                        for (int i = 0; i < count; i++)
                        {
                            model.Enqueue(null);
                        }

                        continue;
                    }

                    for (int i = 0; i < count; i++)
                    {
                        batch[i] = next;
                        model.Enqueue(next++);
                    }

                    batch.Publish();
                }
                finally
                {
                    batch.Dispose(); // nothing after Publish or Abort
                }
            }

            SlotBatch<long> stop = default;
            bool open = random.Next(4) == 0 && ring.TryClaim(random.Next(1, 4), out stop);
            try
            {
                // Drain with random limits until the model has nothing the drain can reach.
                while (model.Count > 0)
                {
                    int limit = random.Next(4) == 0 ? int.MaxValue : random.Next(1, 5);
                    var expected = new List<long>();
                    long position = ring.ConsumerPosition;
                    while (model.Count > 0 && expected.Count < limit)
                    {
                        long? slot = model.Dequeue();
                        position++;
                        if (slot is long element)
                        {
                            expected.Add(element);
                        }
                    }

                    skipsAtLimit += expected.Count == limit && model.TryPeek(out long? after) && after is null ? 1 : 0;
                    var handler = new ListHandler<long>([]);
                    Assert.Equal(expected.Count, ring.Drain(ref handler, limit));
                    Assert.Equal(expected, handler.Items);
                    Assert.Equal(position, ring.ConsumerPosition);
                }

                var none = new ListHandler<long>([]);
                Assert.Equal(0, ring.Drain(ref none, int.MaxValue)); // the open claim (or nothing) is next
                Assert.Equal(0, ring.Drain(ref none, 0));
            }
            finally
            {
                if (open)
                {
                    for (int i = 0; i < stop.Count; i++)
                    {
                        stop[i] = next;
                        model.Enqueue(next++);
                    }

                    stop.Publish();
                }
            }
        }

        Assert.True(skipsAtLimit > 100, $"{skipsAtLimit} drains stopped by their limit before skipped slots");
    }
}
