using System.Buffers.Binary;
using UintrIpc.Channels;
using UintrIpc.Memory;
using UintrIpc.Rings;

namespace UintrIpc.TestPeer.Commands;

/// <summary>
/// Child-process side of test/UintrIpc.Tests/Rings/CrossProcess/DisposeOpenClaimTests: a producer
/// that disposes its ring object while a claim is open, and lives on.
/// </summary>
internal static class DisposeOpenCommands
{
    /// <summary>How long the producer lives on after its Dispose, waiting for "exit" on stdin.</summary>
    private static readonly TimeSpan Hold = TimeSpan.FromSeconds(120);

    /// <summary>
    /// `ring-dispose-open name kind`: attaches to the ring of region name (records or slots, SPSC
    /// or MPSC as the region says), writes the values 0, 1, 2, opens a claim of kind
    /// (record-batch: two records appended, 24-byte payloads of 0x01 after the value;
    /// record-run: three such records appended as one run; record-batch-empty; record-claim; slot-claim; slot-batch: three slots filled), disposes the
    /// ring object with the claim open ("disposed"), then the claim, and waits for "exit" on stdin,
    /// alive all along: its pid never says it is dead. `ring-dispose-open name kind die`: instead of
    /// the Dispose, prints "open" and waits to be killed with the claim open.
    /// </summary>
    [PeerCommand("ring-dispose-open")]
    public static int DisposeWithClaimOpen(string[] args)
    {
        using var region = SharedRegion.OpenNamed(args[0], TimeSpan.FromSeconds(10));
        string kind = args[1];
        bool die = args.Length > 2 && args[2] == "die";
        bool records = kind.StartsWith("record", StringComparison.Ordinal);
        var recordRing = records ? new RecordRing(region) : null;
        var slotRing = records ? null : new SlotRing<long>(region);
        for (long value = 0; value < 3; value++)
        {
            var bytes = new byte[8];
            BinaryPrimitives.WriteInt64LittleEndian(bytes, value);
            if (!(records ? recordRing!.TryWrite(1, bytes) : slotRing!.TryWrite(value)))
            {
                Console.WriteLine("full");
                return 3;
            }
        }

        switch (kind)
        {
            case "record-batch":
            case "record-batch-empty":
                {
                    if (!recordRing!.TryClaimBatch(128, out RecordBatch batch))
                    {
                        return 3;
                    }

                    using (batch)
                    {
                        for (int i = 0; kind == "record-batch" && i < 2; i++)
                        {
                            if (!batch.TryAppend(1, 24, out var payload))
                            {
                                return 3;
                            }

                            payload.Fill(1);
                            BinaryPrimitives.WriteInt64LittleEndian(payload, 100 + i);
                        }

                        Release(recordRing, die);
                    }

                    break;
                }

            case "record-run":
                {
                    if (!recordRing!.TryClaimBatch(128, out RecordBatch batch))
                    {
                        return 3;
                    }

                    using (batch)
                    {
                        if (!batch.TryAppend(1, 24, 3, out RecordRun run))
                        {
                            return 3;
                        }

                        for (int i = 0; i < run.Count; i++)
                        {
                            run[i].Fill(1);
                            BinaryPrimitives.WriteInt64LittleEndian(run[i], 100 + i);
                        }

                        Release(recordRing, die);
                    }

                    break;
                }

            case "record-claim":
                {
                    if (!recordRing!.TryClaim(1, 24, out RecordClaim claim))
                    {
                        return 3;
                    }

                    using (claim)
                    {
                        claim.Payload.Fill(1);
                        BinaryPrimitives.WriteInt64LittleEndian(claim.Payload, 100);
                        Release(recordRing, die);
                    }

                    break;
                }

            case "slot-claim":
                {
                    if (!slotRing!.TryClaim(out SlotClaim<long> claim))
                    {
                        return 3;
                    }

                    using (claim)
                    {
                        claim.Item = 100;
                        Release(slotRing, die);
                    }

                    break;
                }

            case "slot-batch":
                {
                    if (!slotRing!.TryClaim(3, out SlotBatch<long> batch) || batch.Count != 3)
                    {
                        return 3;
                    }

                    using (batch)
                    {
                        for (int i = 0; i < 3; i++)
                        {
                            batch[i] = 100 + i;
                        }

                        Release(slotRing, die);
                    }

                    break;
                }

            default:
                Console.Error.WriteLine($"unknown kind {kind}");
                return 2;
        }

        var line = Task.Run(Console.ReadLine);
        return line.Wait(Hold) && line.Result == "exit" ? 0 : 4;
    }

    private static void Release(IDisposable ring, bool die)
    {
        if (die)
        {
            Console.WriteLine("open");
            Thread.Sleep(Hold);
            Environment.Exit(4); // not killed: the test is gone; never complete the claim
        }

        ring.Dispose();
        Console.WriteLine("disposed");
    }
}
