using System.Buffers.Binary;
using System.Globalization;
using UintrIpc.Channels;
using UintrIpc.Memory;
using UintrIpc.Rings;

namespace UintrIpc.TestPeer.Commands;

/// <summary>
/// Child-process side of the channel writer's lease tests (RegionLeaseTests): a channel writer
/// disposed while another thread writes into its claims, the writer holding the channel's last
/// lease (the release then retires the mapping). Channels record no MappingUse: the channel's
/// count keeps the mapping, until the writer's Dispose releases it.
/// </summary>
internal static class ChannelLeaseCommands
{
    /// <summary>Stores per claimed element or payload: most of a round is spent writing into claimed room, so the Dispose lands there.</summary>
    private const int WritesPerClaim = 64;

    /// <summary>
    /// `lease-dispose-writer-under-claims kind op rounds`: per round a channel (kind: spsc, mpsc:
    /// of longs; spsc-messages, mpsc-messages) whose writer holds the last lease, a worker writing
    /// numbered messages through claims (op claim-writes: one-element batches or MessageClaim;
    /// batch-writes: slot batches of 8 or a record batch of 512 bytes), each message written
    /// <see cref="WritesPerClaim"/> times in place, then published; the main thread disposes the
    /// writer after 1-64 completions. The worker must end with <see cref="ObjectDisposedException"/>,
    /// the memory must be unmapped after, and a peer's view of the ring (its own mapping, a fresh
    /// raw consumer stepping over the disposed writer's claims as a dead producer's) must hold
    /// exactly the messages published, numbered 0, 1, ... in order, up to the tail: all of them, or
    /// all but some of the last completion's (one racing the Dispose may be lost although it
    /// returned: regions-and-rings.md). Prints "ok".
    /// </summary>
    [PeerCommand("lease-dispose-writer-under-claims")]
    public static int DisposeWriterUnderClaims(string[] args)
    {
        string kind = args[0];
        bool batches = args[1] switch
        {
            "claim-writes" => false,
            "batch-writes" => true,
            _ => throw new ArgumentException($"unknown op {args[1]}"),
        };
        int rounds = int.Parse(args[2], CultureInfo.InvariantCulture);
        bool messages = kind.EndsWith("messages", StringComparison.Ordinal);
        bool multi = kind.StartsWith("mpsc", StringComparison.Ordinal);
        for (int round = 0; round < rounds; round++)
        {
            string? failure = messages ? MessageRound(multi, batches, round) : SlotRound(multi, batches, round);
            if (failure is not null)
            {
                Console.WriteLine($"round {round}: {failure}");
                return 1;
            }
        }

        Console.WriteLine("ok");
        return 0;
    }

    /// <summary>Options of a round's channel: the futex doorbell (a writer without a reader needs no descriptor), room for 64 completions.</summary>
    private static IpcChannelOptions Options(bool multi) => new()
    {
        Capacity = 1024, // slots: 64 batches of 8 with room to spare
        BufferSize = 64 * 1024, // records: 64 batches of 512 bytes with room to spare
        MultipleWriters = multi,
        Doorbell = DoorbellKind.Futex,
    };

    private static string? SlotRound(bool multi, bool batches, int round)
    {
        using IpcChannel<long> channel = IpcChannel.CreateBounded<long>(Options(multi));
        IpcChannelWriter<long> writer = channel.Writer;
        return Race(channel.Region, writer, round, published =>
        {
            if (!writer.TryClaim(batches ? 8 : 1, out SlotBatch<long> batch))
            {
                return 0;
            }

            for (int i = 0; i < WritesPerClaim; i++)
            {
                for (int k = 0; k < batch.Count; k++)
                {
                    Volatile.Write(ref batch[k], i == WritesPerClaim - 1 ? published + k : -1); // the number last
                }
            }

            int count = batch.Count;
            batch.Publish();
            return count;
        }, peer => ReadSlots(peer, multi));
    }

    private static string? MessageRound(bool multi, bool batches, int round)
    {
        using IpcMessageChannel channel = IpcChannel.CreateMessages(Options(multi));
        IpcMessageWriter writer = channel.Writer;
        return Race(channel.Region, writer, round, published =>
        {
            if (!batches)
            {
                if (!writer.TryClaim(1, 64, out MessageClaim claim))
                {
                    return 0;
                }

                Fill(claim.Payload, published);
                claim.Commit();
                return 1;
            }

            if (!writer.TryClaimBatch(512, out RecordBatch batch))
            {
                return 0;
            }

            using (batch)
            {
                while (batch.TryAppend(1, 24, out Span<byte> payload))
                {
                    Fill(payload, published + batch.Count - 1);
                }

                int count = batch.Count;
                batch.Commit();
                return count;
            }
        }, peer => ReadMessages(peer, multi));
    }

    /// <summary>Writes a payload <see cref="WritesPerClaim"/> / 8 times over, the last time with its number in the first 8 bytes.</summary>
    private static void Fill(Span<byte> payload, long number)
    {
        for (int i = 0; i < WritesPerClaim / 8; i++)
        {
            payload.Fill((byte)i);
        }

        BinaryPrimitives.WriteInt64LittleEndian(payload, number);
    }

    /// <summary>
    /// One round: <paramref name="step"/> (given the messages published so far, returning how many
    /// it published; 0: none) on a worker until it throws <see cref="ObjectDisposedException"/>, the
    /// writer disposed on this thread after a varying number of steps; then the checks (see the command).
    /// </summary>
    private static string? Race(SharedRegion region, IDisposable writer, int round, Func<long, int> step, Func<SharedRegion, (List<long> Read, long Head, long Tail)> readPeer)
    {
        var maps = RegionMaps.Of(region);
        using var peer = SharedRegion.Attach(region.FdHandle); // a peer's view of the same memory
        region.Dispose(); // the channel object's reference: the writer's is now the last
        long steps = 0, published = 0, lastSize = 0;
        string? failure = null;
        var worker = new Thread(() =>
        {
            try
            {
                while (true)
                {
                    int done = step(published);
                    if (done > 0)
                    {
                        published += done;
                        lastSize = done;
                    }

                    Volatile.Write(ref steps, steps + 1);
                }
            }
            catch (ObjectDisposedException)
            {
                // the expected end
            }
            catch (Exception e)
            {
                failure = e.ToString();
            }
        });
        worker.Start();
        long target = 1 + (round % 64); // dispose after a varying number of steps, so the race lands everywhere in one
        long deadline = Environment.TickCount64 + 30_000;
        while (Volatile.Read(ref steps) < target && worker.IsAlive && Environment.TickCount64 < deadline)
        {
            Thread.SpinWait(round % 7);
        }

        writer.Dispose();
        if (!worker.Join(TimeSpan.FromSeconds(30)))
        {
            return "the worker did not end after the writer was disposed";
        }

        if (failure is not null)
        {
            return failure;
        }

        long unmapDeadline = Environment.TickCount64 + 10_000; // the last release retires the mapping at once (channels record no call)
        while (maps.IsMapped() && Environment.TickCount64 < unmapDeadline)
        {
            Thread.Sleep(1);
        }

        if (maps.IsMapped())
        {
            return "still mapped 10 s after the writer's Dispose and the worker's end";
        }

        (List<long> read, long head, long tail) = readPeer(peer);
        if (head != tail)
        {
            return $"a peer's consumer ends at {head}, the ring's tail is {tail} ({read.Count} read, {published} published)";
        }

        for (int i = 0; i < read.Count; i++)
        {
            if (read[i] != i)
            {
                return $"a peer read message {read[i]} as the {i}th (published: {published})";
            }
        }

        return read.Count <= published && read.Count >= published - lastSize
            ? null
            : $"a peer read {read.Count} messages; {published} were published, the last completion's {lastSize} may be lost";
    }

    /// <summary>A fresh consumer on the peer's mapping: every element up to the tail, a dead producer's claims stepped over.</summary>
    private static (List<long> Read, long Head, long Tail) ReadSlots(SharedRegion peer, bool multi)
    {
        using var ring = new SlotRing<long>(peer);
        var read = new List<long>();
        for (int i = 0; i < 10_000; i++) // at most 1024 slots are left
        {
            if (ring.TryRead(out long item))
            {
                read.Add(item);
            }
            else if (!multi || !ring.TrySkipDeadClaim())
            {
                break;
            }
        }

        return (read, ring.ConsumerPosition, ring.ProducerPosition);
    }

    /// <summary>As <see cref="ReadSlots"/>, for a message channel's record ring: each message's number.</summary>
    private static (List<long> Read, long Head, long Tail) ReadMessages(SharedRegion peer, bool multi)
    {
        using var ring = new RecordRing(peer);
        var read = new List<long>();
        Span<byte> buffer = stackalloc byte[ring.MaxMessageLength];
        for (int i = 0; i < 10_000; i++) // at most 64 KiB of records are left, 24 bytes or more each
        {
            if (ring.TryRead(out _, buffer, out int length))
            {
                read.Add(length >= 8 ? BinaryPrimitives.ReadInt64LittleEndian(buffer) : -1);
            }
            else if (!multi || !ring.TrySkipDeadClaim())
            {
                break;
            }
        }

        return (read, ring.ConsumerPosition, ring.ProducerPosition);
    }
}
