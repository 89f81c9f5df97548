using System.Globalization;
using UintrIpc.Memory;
using UintrIpc.Rings;

namespace UintrIpc.TestPeer.Commands;

/// <summary>
/// Child-process side of the lease tests (test/UintrIpc.Tests/Memory/RegionLeaseTests.cs): the
/// scenarios that crash the whole process when a mapping goes away under a ring, so they run
/// here and the test only reads the exit code.
/// </summary>
internal static class LeaseCommands
{
    /// <summary>
    /// `lease-dispose-region-under-rings iterations`: one thread writes and reads a ring of each
    /// kind while the main thread disposes the region; the rings must go on working, and the
    /// memory must be unmapped only after the last ring is disposed. Prints "ok".
    /// </summary>
    [PeerCommand("lease-dispose-region-under-rings")]
    public static int DisposeRegionUnderRings(string[] args)
    {
        int iterations = int.Parse(args[0], CultureInfo.InvariantCulture);
        var region = SharedRegion.CreateAnonymous(
            SlotRing<long>.Part(64), SlotRing<long>.Part(64, multipleProducers: true, tag: 1), RecordRing.Part(1024), RecordRing.Part(1024, multipleProducers: true, tag: 1));
        var maps = RegionMaps.Of(region);
        var spsc = new SlotRing<long>(region);
        var mpsc = new SlotRing<long>(region, 1u);
        var spscRecords = new RecordRing(region);
        var mpscRecords = new RecordRing(region, 1u);
        using var started = new ManualResetEventSlim();
        string? failure = null;
        var worker = new Thread(() =>
        {
            Span<byte> buffer = stackalloc byte[8];
            for (long i = 0; i < iterations && failure is null; i++)
            {
                BitConverter.TryWriteBytes(buffer, i);
                bool ok = spsc.TryWrite(i) && spsc.TryRead(out long a) && a == i
                    && mpsc.TryWrite(i) && mpsc.TryRead(out long b) && b == i
                    && spscRecords.TryWrite(1, buffer) && spscRecords.TryRead(out _, buffer, out int n1) && n1 == 8 && BitConverter.ToInt64(buffer) == i
                    && mpscRecords.TryWrite(1, buffer) && mpscRecords.TryRead(out _, buffer, out int n2) && n2 == 8 && BitConverter.ToInt64(buffer) == i;
                if (!ok)
                {
                    failure = $"iteration {i}: a ring lost or changed a message";
                }

                if (i == 1000)
                {
                    started.Set();
                }
            }

            started.Set();
        });
        worker.Start();
        if (!started.Wait(TimeSpan.FromSeconds(30)))
        {
            Console.Error.WriteLine("the worker did not start");
            return 1;
        }

        region.Dispose(); // while the worker runs: the rings' leases keep the memory
        bool mappedAfterRegionDispose = maps.IsMapped();
        if (!worker.Join(TimeSpan.FromSeconds(60)))
        {
            Console.Error.WriteLine("the worker did not finish");
            return 1;
        }

        foreach (IDisposable ring in new object[] { spsc, mpsc, spscRecords, mpscRecords }.OfType<IDisposable>())
        {
            if (!maps.IsMapped())
            {
                failure ??= "the region was unmapped while a ring still held it";
            }

            ring.Dispose();
        }

        if (failure is null && !mappedAfterRegionDispose)
        {
            failure = "the region was unmapped by its Dispose while rings used it";
        }

        if (failure is null && maps.IsMapped())
        {
            failure = "the region is still mapped after every ring and the region were disposed";
        }

        Console.WriteLine(failure ?? "ok");
        return failure is null ? 0 : 1;
    }
}
