using System.Globalization;
using UintrIpc.Memory;
using UintrIpc.Rings;

namespace UintrIpc.TestPeer.Commands;

/// <summary>
/// Child-process side of the record-ring stale-intent tests (test/UintrIpc.Tests/Rings/CrossProcess/RecordStaleIntentTests):
/// MPSC record producers that stop, to be killed, at a racy point of their claim (uintripc.h 2e, 2f).
/// </summary>
internal static class RecordClaimRaceCommands
{
    /// <summary>How long a producer waits at its point for the kill before it gives up (exit 4).</summary>
    private static readonly TimeSpan Hold = TimeSpan.FromSeconds(120);

    /// <summary>
    /// `record-claim-stops name after-cas|before-cas recordLength`: claims one record of recordLength bytes
    /// (header included) in the MPSC record ring of region name, through the library's claim, and stops
    /// there: after-cas between the claim CAS and the claimed header ("claimed POSITION"), before-cas
    /// between the intent store and the CAS ("intent TAIL"). Waits to be killed.
    /// </summary>
    [PeerCommand("record-claim-stops")]
    public static int ClaimStops(string[] args)
    {
        using var region = SharedRegion.OpenNamed(args[0], TimeSpan.FromSeconds(10));
        using var ring = new RecordRingEngine(region, region.FindRingPart(PartKind.SpscRecords, PartKind.MpscRecords, 0), PartKind.MpscRecords, lease: true);
        int recordLength = int.Parse(args[2], CultureInfo.InvariantCulture);
        long position = args[1] == "after-cas" ? ring.TryClaimMpsc<StopAfterCas>(recordLength) : ring.TryClaimMpsc<StopBeforeCas>(recordLength);
        Console.WriteLine(position < 0 ? "full" : $"not stopped at {position}");
        return 3;
    }

    /// <summary>
    /// `record-batch-claim-and-hold name bytes`: claims a batch of bytes in the MPSC record ring of
    /// region name and appends nothing, so the range's first header stays zero, as a claim between its
    /// CAS and its header ("claimed POSITION"). Waits to be killed.
    /// </summary>
    [PeerCommand("record-batch-claim-and-hold")]
    public static int BatchClaimAndHold(string[] args)
    {
        using var region = SharedRegion.OpenNamed(args[0], TimeSpan.FromSeconds(10));
        using var ring = new RecordRing(region);
        long tail = ring.ProducerPosition;
        if (!ring.TryClaimBatch(int.Parse(args[1], CultureInfo.InvariantCulture), out var batch))
        {
            Console.WriteLine("full");
            return 3;
        }

        using (batch)
        {
            Console.WriteLine($"claimed {tail}");
            Thread.Sleep(Hold);
        }

        return 4;
    }

    private static void StopHere(string what)
    {
        Console.WriteLine(what);
        Thread.Sleep(Hold);
        Environment.Exit(4); // not killed: the test is gone; never complete the claim
    }

    private struct StopAfterCas : IClaimProbe
    {
        public static void BeforeCas(long tail)
        {
        }

        public static void AfterCas(long position) => StopHere($"claimed {position}");
    }

    private struct StopBeforeCas : IClaimProbe
    {
        public static void BeforeCas(long tail) => StopHere($"intent {tail}");

        public static void AfterCas(long position)
        {
        }
    }
}
