using System.Globalization;
using UintrIpc.Channels;
using UintrIpc.Memory;
using UintrIpc.Rings;

namespace UintrIpc.TestPeer.Commands;

/// <summary>
/// Child-process side of test/UintrIpc.Tests/HotPaths/HotPathTierTests: drives the record rings'
/// and the slot batches' per-message paths a few times in a fresh process, so that the JIT's summary (set up by the
/// test's environment) tells at which tier each was first compiled.
/// </summary>
internal static class HotPathTierCommands
{
    /// <summary>
    /// `record-hot-path-tiers rounds`: on an SPSC and an MPSC record ring, rounds times: a batch
    /// of a short range (entries kept) and one of a long range (SPSC: headers read back), four
    /// records each, committed, and a message of 6000 bytes written alone (longer than TryRead's
    /// inline copy: its general path), then every record read with TryRead. Prints "read n" and
    /// fails unless every record came out.
    /// </summary>
    [PeerCommand("record-hot-path-tiers")]
    public static int DriveRecordPaths(string[] args)
    {
        int rounds = int.Parse(args[0], CultureInfo.InvariantCulture);
        long read = 0;
        foreach (bool multipleProducers in new[] { false, true })
        {
            using var region = SharedRegion.CreateAnonymous(RecordRing.Part(65536, maxMessageLength: 8192, multipleProducers));
            using var producer = new RecordRing(region);
            using var consumer = new RecordRing(region);
            var destination = new byte[8192];
            var longMessage = new byte[6000];
            for (int round = 0; round < rounds; round++)
            {
                foreach ((int bytes, int payloadLength) in new[] { (256, 48), (4096, 1000) })
                {
                    if (!producer.TryClaimBatch(bytes, out RecordBatch batch))
                    {
                        Console.Error.WriteLine($"no room for a batch of {bytes} bytes");
                        return 3;
                    }

                    for (int i = 0; i < 4; i++)
                    {
                        if (!batch.TryAppend(1, payloadLength, out Span<byte> payload))
                        {
                            Console.Error.WriteLine($"no room for record {i} of a batch of {bytes} bytes");
                            return 3;
                        }

                        payload.Fill((byte)i);
                    }

                    batch.Commit();
                    if (bytes == 4096 && !producer.TryWrite(2, longMessage))
                    {
                        Console.Error.WriteLine("no room for the long message");
                        return 3;
                    }

                    while (consumer.TryRead(out _, destination, out _))
                    {
                        read++;
                    }
                }
            }
        }

        Console.WriteLine($"read {read}");
        return read == 2L * rounds * ((2 * 4) + 1) ? 0 : 4;
    }

    /// <summary>
    /// `slot-hot-path-tiers rounds`: on an SPSC and an MPSC slot ring, rounds times: a batch of
    /// four slots claimed, filled and published, then drained. Prints "read n" and fails unless
    /// every element came out.
    /// </summary>
    [PeerCommand("slot-hot-path-tiers")]
    public static int DriveSlotBatchPaths(string[] args)
    {
        int rounds = int.Parse(args[0], CultureInfo.InvariantCulture);
        long read = 0;
        foreach (bool multipleProducers in new[] { false, true })
        {
            using var region = SharedRegion.CreateAnonymous(SlotRing<long>.Part(64, multipleProducers));
            using var producer = new SlotRing<long>(region);
            using var consumer = new SlotRing<long>(region);
            for (int round = 0; round < rounds; round++)
            {
                if (!producer.TryClaim(4, out SlotBatch<long> batch) || batch.Count != 4)
                {
                    Console.Error.WriteLine("no room for a batch of 4 slots");
                    return 3;
                }

                for (int i = 0; i < batch.Count; i++)
                {
                    batch[i] = i;
                }

                batch.Publish();
                var counter = new SlotCounter();
                read += consumer.Drain(ref counter);
            }
        }

        Console.WriteLine($"read {read}");
        return read == 2L * rounds * 4 ? 0 : 4;
    }

    private struct SlotCounter : ISlotHandler<long>
    {
        public readonly void Handle(in long item)
        {
        }
    }
}
