using System.Diagnostics;
using System.Buffers.Binary;
using UintrIpc.Channels;
using UintrIpc.Memory;
using UintrIpc.Rings;

namespace UintrIpc.Tests.Rings;

/// <summary>
/// In-process concurrency with exact counts: producers write (producer id, sequence) streams
/// of random sizes through TryWrite, claim/commit and claim/abort; the consumer checks every
/// message's type, length and checksum, per-producer order, and that nothing is lost or
/// duplicated. Short by default; UINTRIPC_STRESS=1 runs them 20 times longer. Every wait
/// yields and has a deadline that fails the test.
/// </summary>
public sealed class RecordsStressTests(ITestOutputHelper output)
{
    private const int Capacity = 2048; // small, so that wrap, padding and a full ring are frequent
    private static readonly bool s_stress = Environment.GetEnvironmentVariable("UINTRIPC_STRESS") == "1";
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(s_stress ? 600 : 60);

    [Fact]
    public void Spsc_one_producer_one_consumer_loses_nothing() => Run(PartKind.SpscRecords, producers: 1, perProducer: s_stress ? 6_000_000 : 300_000);

    [Fact]
    public void Mpsc_many_producers_one_consumer_lose_nothing()
    {
        int producers = Math.Max(2, Environment.ProcessorCount);
        Run(PartKind.MpscRecords, producers, perProducer: (s_stress ? 6_000_000 : 300_000) / producers);
    }

    [Fact]
    public void Mpsc_one_producer_keeps_its_order_too() => Run(PartKind.MpscRecords, producers: 1, perProducer: s_stress ? 3_000_000 : 150_000);

    private void Run(PartKind kind, int producers, int perProducer)
    {
        using var region = SharedRegion.CreateAnonymous(RecordRingUnderTest.Part(kind, Capacity));
        var consumerRing = RecordRingUnderTest.Attach(kind, region);
        int max = consumerRing.MaxMessageLength;
        var failures = new Failures();
        using var start = new Barrier(producers + 1);
        var watch = Stopwatch.StartNew();
        var threads = new Thread[producers];
        for (int p = 0; p < producers; p++)
        {
            int id = p;
            // Each producer thread gets its own instance, as a producer in another process would.
            var ring = RecordRingUnderTest.Attach(kind, region);
            threads[p] = new Thread(() => Produce(ring, id, perProducer, max, start, watch, failures)) { IsBackground = true, Name = $"producer {id}" };
            threads[p].Start();
        }

        var handler = new CheckingHandler(new long[producers], failures, max);
        long expected = (long)producers * perProducer;
        Assert.True(start.SignalAndWait(s_deadline), "producers did not start");
        while (handler.Received < expected && failures.Count == 0)
        {
            if (consumerRing.Read(ref handler, limit: 64) == 0)
            {
                if (watch.Elapsed > s_deadline)
                {
                    failures.Add($"consumer: deadline passed after {handler.Received} of {expected} messages");
                    break;
                }

                Thread.Yield();
            }
        }

        foreach (var thread in threads)
        {
            Assert.True(thread.Join(s_deadline), $"{thread.Name} did not finish");
        }

        // Nothing more may arrive: no duplicates after the last expected message.
        Assert.Equal(0, consumerRing.Read(ref handler));
        Assert.Equal(string.Empty, failures.Summary);
        Assert.Equal(expected, handler.Received);
        for (int p = 0; p < producers; p++)
        {
            Assert.Equal(perProducer, handler.NextSequence[p]);
        }

        Assert.Equal(consumerRing.ProducerPosition, consumerRing.ConsumerPosition);
        Assert.False(consumerRing.CanRead);
        output.WriteLine($"{kind}: {producers} x {perProducer} messages in {watch.Elapsed.TotalMilliseconds:F0} ms");
    }

    private static void Produce(RecordRingUnderTest ring, int id, int count, int max, Barrier start, Stopwatch watch, Failures failures)
    {
        try
        {
            byte[] buffer = new byte[max];
            if (!start.SignalAndWait(s_deadline))
            {
                failures.Add($"producer {id}: start gate timed out");
                return;
            }

            for (long seq = 0; seq < count && failures.Count == 0; seq++)
            {
                ulong hash = Message.Hash(id, seq);
                int length = Message.Length(hash, max);
                int type = Message.Type(id, seq);
                int mode = (int)(hash >> 40) & 15;
                while (true)
                {
                    bool done;
                    if (mode < 8)
                    {
                        Message.Fill(buffer.AsSpan(0, length), id, seq);
                        done = ring.TryWrite(type, buffer.AsSpan(0, length));
                    }
                    else if (ring.TryClaim(mode == 15 ? 0 : type, length, out var claim))
                    {
                        if (mode == 15)
                        {
                            // Abort one in sixteen claims, then send the message for real.
                            claim.Payload.Fill(0xEE);
                            claim.Abort();
                            mode = 0;
                            continue;
                        }

                        Message.Fill(claim.Payload, id, seq);
                        claim.Commit();
                        done = true;
                    }
                    else
                    {
                        done = false;
                    }

                    if (done)
                    {
                        break;
                    }

                    if (watch.Elapsed > s_deadline)
                    {
                        failures.Add($"producer {id}: deadline passed at message {seq}, ring full");
                        return;
                    }

                    Thread.Yield();
                }
            }
        }
        catch (Exception e)
        {
            failures.Add($"producer {id}: {e}");
        }
    }

    /// <summary>Message format: producer id (4) | sequence (8) | checksum of everything else (4) | body.</summary>
    private static class Message
    {
        public const int HeaderLength = 16;

        public static ulong Hash(int id, long seq)
        {
            ulong x = ((ulong)(uint)id << 48) ^ (ulong)seq ^ 0x9E3779B97F4A7C15UL;
            x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
            x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
            return x ^ (x >> 31);
        }

        public static int Length(ulong hash, int max) => HeaderLength + (int)(hash % (ulong)(max - HeaderLength + 1));

        public static int Type(int id, long seq) => (id * 128) + (int)(seq & 127);

        public static void Fill(Span<byte> payload, int id, long seq)
        {
            BinaryPrimitives.WriteInt32LittleEndian(payload, id);
            BinaryPrimitives.WriteInt64LittleEndian(payload[4..], seq);
            var body = payload[HeaderLength..];
            for (int i = 0; i < body.Length; i++)
            {
                body[i] = (byte)((seq * 131) + (i * 17) + id);
            }

            BinaryPrimitives.WriteUInt32LittleEndian(payload[12..], Checksum(payload));
        }

        public static uint Checksum(ReadOnlySpan<byte> payload)
        {
            // FNV-1a over id, sequence, length and body (not over the checksum field itself).
            uint h = 2166136261;
            foreach (byte b in payload[..12])
            {
                h = (h ^ b) * 16777619;
            }

            h = (h ^ (uint)payload.Length) * 16777619;
            foreach (byte b in payload[HeaderLength..])
            {
                h = (h ^ b) * 16777619;
            }

            return h;
        }
    }

    private struct CheckingHandler(long[] nextSequence, Failures failures, int max) : IRecordHandler
    {
        public long Received;

        public readonly long[] NextSequence => nextSequence;

        public void Handle(int type, ReadOnlySpan<byte> payload)
        {
            Received++;
            if (payload.Length < Message.HeaderLength)
            {
                failures.Add($"message {Received}: {payload.Length} bytes");
                return;
            }

            int id = BinaryPrimitives.ReadInt32LittleEndian(payload);
            long seq = BinaryPrimitives.ReadInt64LittleEndian(payload[4..]);
            if ((uint)id >= (uint)nextSequence.Length)
            {
                failures.Add($"message {Received}: producer id {id}");
                return;
            }

            if (seq != nextSequence[id])
            {
                failures.Add($"producer {id}: sequence {seq}, expected {nextSequence[id]} (lost, duplicated or reordered)");
            }

            nextSequence[id] = seq + 1;
            if (type != Message.Type(id, seq))
            {
                failures.Add($"producer {id} seq {seq}: type {type}");
            }

            if (payload.Length != Message.Length(Message.Hash(id, seq), max))
            {
                failures.Add($"producer {id} seq {seq}: length {payload.Length}");
            }

            if (BinaryPrimitives.ReadUInt32LittleEndian(payload[12..]) != Message.Checksum(payload))
            {
                failures.Add($"producer {id} seq {seq}: checksum mismatch");
            }
        }
    }

    /// <summary>Failures found on any thread; assertions happen on the test thread.</summary>
    private sealed class Failures
    {
        private readonly List<string> _messages = [];
        private int _count;

        public int Count => Volatile.Read(ref _count);

        public string Summary
        {
            get
            {
                lock (_messages)
                {
                    return string.Join(Environment.NewLine, _messages.Take(10));
                }
            }
        }

        public void Add(string message)
        {
            lock (_messages)
            {
                _messages.Add(message);
            }

            Interlocked.Increment(ref _count);
        }
    }
}
