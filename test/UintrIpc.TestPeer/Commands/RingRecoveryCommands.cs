using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using UintrIpc.Channels;
using UintrIpc.Memory;
using UintrIpc.Rings;

namespace UintrIpc.TestPeer.Commands;

/// <summary>
/// Child-process side of the recovery tests (test/UintrIpc.Tests/Rings/CrossProcess/RingRecoveryTests):
/// producers that hold claims or are killed in them, and a consumer that logs what it handled.
/// </summary>
internal static class RingRecoveryCommands
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    /// <summary>
    /// `ring-claim-and-hold name slots|records producer holdMs|stdin`: claims the next position in the MPSC
    /// ring, prints "claimed", holds the claim (<see cref="Hold"/>), fills and publishes message 0 of producer,
    /// prints "published".
    /// </summary>
    [PeerCommand("ring-claim-and-hold")]
    public static int ClaimAndHold(string[] args)
    {
        using var region = SharedRegion.OpenNamed(args[0], TimeSpan.FromSeconds(10));
        int producer = int.Parse(args[2], CultureInfo.InvariantCulture);
        if (args[1] == "records")
        {
            using var ring = new RecordRing(region);
            if (!ring.TryClaim(producer, 24, out var claim))
            {
                return Full();
            }

            Console.WriteLine("claimed");
            Hold(args[3]);
            RecordBody.Fill(claim.Payload, producer, 0, 24);
            claim.Commit();
        }
        else
        {
            using var ring = new SlotRing<RingTestMessage>(region);
            if (!ring.TryClaim(out var claim))
            {
                return Full();
            }

            Console.WriteLine("claimed");
            Hold(args[3]);
            claim.Item = RingTestMessage.Of(producer, 0);
            claim.Publish();
        }

        Console.WriteLine("published");
        return 0;
    }

    /// <summary>
    /// `ring-batch-claim-and-hold name count producer holdMs|stdin`: claims a batch of count slots in the
    /// MPSC slot ring (TryClaim(count)), writes messages 0..count-1 of producer into it, prints
    /// "claimed N" (N the slots taken), holds the batch (<see cref="Hold"/>), publishes it, prints "published".
    /// </summary>
    [PeerCommand("ring-batch-claim-and-hold")]
    public static int BatchClaimAndHold(string[] args)
    {
        using var region = SharedRegion.OpenNamed(args[0], TimeSpan.FromSeconds(10));
        int count = int.Parse(args[1], CultureInfo.InvariantCulture);
        int producer = int.Parse(args[2], CultureInfo.InvariantCulture);
        using var ring = new SlotRing<RingTestMessage>(region);
        if (!ring.TryClaim(count, out SlotBatch<RingTestMessage> batch))
        {
            return Full();
        }

        using (batch)
        {
            for (int i = 0; i < batch.Count; i++)
            {
                batch[i] = RingTestMessage.Of(producer, i);
            }

            Console.WriteLine($"claimed {batch.Count}");
            Hold(args[3]);
            batch.Publish();
        }

        Console.WriteLine("published");
        return 0;
    }

    /// <summary>
    /// `ring-produce-killable name slots|slot-batches|records producer count holdSpins`: writes
    /// messages 0..count-1 of producer, even ones through a claim held for holdSpins spins (so that
    /// a kill often lands inside a claim; slot-batches: a batch of up to 4 from an even one), odd
    /// ones with TryWrite; prints "ready" after the first, "done" at the end.
    /// </summary>
    [PeerCommand("ring-produce-killable")]
    public static int ProduceKillable(string[] args)
    {
        using var region = SharedRegion.OpenNamed(args[0], TimeSpan.FromSeconds(10));
        bool records = args[1] == "records";
        bool batches = args[1] == "slot-batches";
        int producer = int.Parse(args[2], CultureInfo.InvariantCulture);
        int count = int.Parse(args[3], CultureInfo.InvariantCulture);
        int holdSpins = int.Parse(args[4], CultureInfo.InvariantCulture);
        using var recordRing = records ? new RecordRing(region) : null;
        using var slotRing = records ? null : new SlotRing<RingTestMessage>(region);
        var body = new byte[32];
        for (int i = 0; i < count;)
        {
            int sequence = i;
            int written = 0;
            if (!RingCommands.UntilWritten(() => (written = batches && sequence % 2 == 0 ? WriteBatch(sequence) : Write(sequence) ? 1 : 0) != 0, producer, i))
            {
                return 3;
            }

            if (i == 0)
            {
                Console.WriteLine("ready");
            }

            i += written;
        }

        Console.WriteLine("done");
        return 0;

        int WriteBatch(int first)
        {
            if (!slotRing!.TryClaim(Math.Min(4, count - first), out SlotBatch<RingTestMessage> batch))
            {
                return 0;
            }

            using (batch)
            {
                for (int k = 0; k < batch.Count; k++)
                {
                    batch[k] = RingTestMessage.Of(producer, first + k);
                }

                Thread.SpinWait(holdSpins);
                batch.Publish();
                return batch.Count;
            }
        }

        bool Write(int sequence)
        {
            bool hold = sequence % 2 == 0;
            if (records)
            {
                if (!hold)
                {
                    return recordRing!.TryWrite(producer, body.AsSpan(0, RecordBody.Fill(body, producer, sequence, body.Length)));
                }

                if (!recordRing!.TryClaim(producer, body.Length, out var claim))
                {
                    return false;
                }

                using (claim)
                {
                    RecordBody.Fill(claim.Payload, producer, sequence, body.Length);
                    Thread.SpinWait(holdSpins);
                    claim.Commit();
                }

                return true;
            }

            if (!hold)
            {
                return slotRing!.TryWrite(RingTestMessage.Of(producer, sequence));
            }

            if (!slotRing!.TryClaim(out var slot))
            {
                return false;
            }

            using (slot)
            {
                slot.Item = RingTestMessage.Of(producer, sequence);
                Thread.SpinWait(holdSpins);
                slot.Publish();
            }

            return true;
        }
    }

    /// <summary>
    /// `ring-consume-log name spsc-slots|mpsc-records logPath last`: consumes sequence numbers (slot
    /// elements: RingTestMessage of producer 0; records: 8-byte payloads) in batches, appending each
    /// to logPath (one write per message, so the log survives a SIGKILL) before the batch is
    /// released; logs -1 first (where its handling starts), prints "started"; exits when it has
    /// handled sequence `last`.
    /// </summary>
    [PeerCommand("ring-consume-log")]
    public static int ConsumeLog(string[] args)
    {
        using var region = SharedRegion.OpenNamed(args[0], TimeSpan.FromSeconds(10));
        long last = long.Parse(args[3], CultureInfo.InvariantCulture);
        using var log = new FileStream(args[2], FileMode.Append, FileAccess.Write, FileShare.ReadWrite, bufferSize: 0);
        var logger = new SequenceLog(log);
        using var slots = args[1] == "spsc-slots" ? new SlotRing<RingTestMessage>(region) : null;
        using var records = slots is null ? new RecordRing(region) : null;
        logger.Handle(type: 0, stackalloc byte[8] { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF });
        logger.Last = -1;
        Console.WriteLine("started");
        long lastProgress = Stopwatch.GetTimestamp();
        while (logger.Last != last)
        {
            int handled = slots is not null ? slots.Drain(ref logger, 64) : records!.Read(ref logger, 64);
            if (handled != 0)
            {
                lastProgress = Stopwatch.GetTimestamp();
            }
            else
            {
                if (Stopwatch.GetElapsedTime(lastProgress) > Deadline)
                {
                    Console.Error.WriteLine($"nothing to read for too long after {logger.Last}");
                    return 3;
                }

                Thread.Yield();
            }
        }

        return 0;
    }

    /// <summary>
    /// Holds a claim for a number of milliseconds, or with "stdin" until the test writes a line (or
    /// its end of stdin closes): a test that asks about a live claim a fixed number of times then
    /// depends on no clock.
    /// </summary>
    private static void Hold(string hold)
    {
        if (hold == "stdin")
        {
            Console.ReadLine();
        }
        else
        {
            Thread.Sleep(int.Parse(hold, CultureInfo.InvariantCulture));
        }
    }

    private static int Full()
    {
        Console.WriteLine("full");
        return 3;
    }

    /// <summary>Appends each handled sequence number to the log (8 bytes, little-endian).</summary>
    private struct SequenceLog(FileStream log) : ISlotHandler<RingTestMessage>, IRecordHandler
    {
        public long Last = -1;

        public void Handle(in RingTestMessage item) => Append(item.Sequence);

        public void Handle(int type, ReadOnlySpan<byte> payload) => Append(BinaryPrimitives.ReadInt64LittleEndian(payload));

        private void Append(long sequence)
        {
            Span<byte> bytes = stackalloc byte[8];
            BinaryPrimitives.WriteInt64LittleEndian(bytes, sequence);
            log.Write(bytes);
            Last = sequence;
        }
    }
}
