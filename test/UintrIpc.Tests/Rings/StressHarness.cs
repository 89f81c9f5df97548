using UintrIpc.Channels;
using UintrIpc.Rings;

namespace UintrIpc.Tests.Rings;

/// <summary>Concurrency tests in this collection run alone: the machine has 2 cores.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SlotRingStressCollection
{
    public const string Name = "SlotRingStress";
}

/// <summary>What the consumer of a stress run saw.</summary>
public sealed record StressResult(long Received, long SequenceSum, int[] PerProducer, string? Failure);

/// <summary>
/// N producer threads each write messages (producerId, 0..M-1) through every write API in
/// turn; one consumer thread reads through every read API in turn and checks each message
/// is intact and the next one of its producer (so: per-producer order, no loss, no
/// duplicate). Threads start behind a barrier; every wait backs off by yielding and has a
/// deadline; failures are recorded, not asserted, on the worker threads.
/// </summary>
internal sealed class StressHarness
{
    private readonly int _producers;
    private readonly int _perProducer;
    private readonly int[] _next;
    private volatile string? _failure;
    private long _received;
    private long _sum;

    private StressHarness(int producers, int perProducer)
    {
        _producers = producers;
        _perProducer = perProducer;
        _next = new int[producers];
    }

    public static StressResult Run(int producers, int perProducer, Func<int, TestRing<StressMessage>> producerRing, TestRing<StressMessage> consumerRing)
    {
        var harness = new StressHarness(producers, perProducer);
        using var start = new Barrier(producers + 1);
        var threads = new List<Thread>();
        for (int id = 0; id < producers; id++)
        {
            int producerId = id;
            TestRing<StressMessage> ring = producerRing(producerId);
            threads.Add(harness.StartThread($"producer {producerId}", start, () => harness.Produce(ring, producerId)));
        }

        threads.Add(harness.StartThread("consumer", start, () => harness.Consume(consumerRing)));
        foreach (Thread thread in threads)
        {
            if (!thread.Join(Bounded.Timeout))
            {
                harness.Fail($"{thread.Name} did not finish within {Bounded.Timeout}");
                break;
            }
        }

        return new StressResult(Interlocked.Read(ref harness._received), Interlocked.Read(ref harness._sum), harness._next, harness._failure);
    }

    private Thread StartThread(string name, Barrier start, Action body)
    {
        var thread = new Thread(() =>
        {
            try
            {
                if (!start.SignalAndWait(Bounded.Timeout))
                {
                    Fail("start barrier timed out");
                    return;
                }

                body();
            }
            catch (Exception e)
            {
                Fail($"{name}: {e}");
            }
        })
        { IsBackground = true, Name = name };
        thread.Start();
        return thread;
    }

    private void Fail(string message) => Interlocked.CompareExchange(ref _failure, message, null);

    private void Produce(TestRing<StressMessage> ring, int producerId)
    {
        var deadline = new Deadline(Bounded.Timeout);
        var spin = new SpinWait();
        var batch = new StressMessage[7];
        int sequence = 0;
        while (sequence < _perProducer && _failure is null)
        {
            int written;
            switch ((sequence / 5 + producerId) % 3)
            {
                case 0:
                    written = ring.TryWrite(StressMessage.Create(producerId, sequence)) ? 1 : 0;
                    break;
                case 1:
                    int count = Math.Min(batch.Length, _perProducer - sequence);
                    for (int i = 0; i < count; i++)
                    {
                        batch[i] = StressMessage.Create(producerId, sequence + i);
                    }

                    written = ring.TryWrite(batch.AsSpan(0, count));
                    break;
                default:
                    written = ring.TryClaimAndPublish(StressMessage.Create(producerId, sequence)) ? 1 : 0;
                    break;
            }

            if (written > 0)
            {
                sequence += written;
                spin = default;
            }
            else
            {
                deadline.Pause(ref spin, $"producer {producerId} waiting for room at message {sequence}");
            }
        }
    }

    private void Consume(TestRing<StressMessage> ring)
    {
        long total = (long)_producers * _perProducer;
        var deadline = new Deadline(Bounded.Timeout);
        var spin = new SpinWait();
        var buffer = new StressMessage[5];
        var handler = new CheckingHandler(this);
        int mode = 0;
        while (Interlocked.Read(ref _received) < total && _failure is null)
        {
            int got;
            switch (mode++ % 3)
            {
                case 0:
                    got = ring.TryRead(out StressMessage message) ? 1 : 0;
                    if (got == 1)
                    {
                        Check(message);
                    }

                    break;
                case 1:
                    got = ring.TryRead(buffer);
                    for (int i = 0; i < got; i++)
                    {
                        Check(buffer[i]);
                    }

                    break;
                default:
                    got = ring.Drain(ref handler, limit: 11);
                    break;
            }

            if (got > 0)
            {
                spin = default;
            }
            else
            {
                deadline.Pause(ref spin, $"consumer waiting after {Interlocked.Read(ref _received)} of {total} messages");
            }
        }

        if (_failure is null && ring.TryRead(out StressMessage extra))
        {
            Fail($"an extra message after all were received: {extra}");
        }
    }

    private void Check(in StressMessage message)
    {
        if (!message.IsIntact || (uint)message.ProducerId >= (uint)_producers)
        {
            Fail($"torn or foreign message {message}");
            return;
        }

        int expected = _next[message.ProducerId];
        if (message.Sequence != expected)
        {
            Fail($"producer {message.ProducerId}: expected message {expected}, got {message.Sequence} ({(message.Sequence < expected ? "duplicate or reordered" : "lost")})");
            return;
        }

        _next[message.ProducerId] = expected + 1;
        Interlocked.Add(ref _sum, message.Sequence); // consumer-only; Interlocked so the final read is exact
        Interlocked.Increment(ref _received);
    }

    private readonly struct CheckingHandler(StressHarness harness) : ISlotHandler<StressMessage>
    {
        public void Handle(in StressMessage item) => harness.Check(item);
    }
}
