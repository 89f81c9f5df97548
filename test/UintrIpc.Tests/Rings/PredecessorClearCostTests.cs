using System.Diagnostics;
using UintrIpc.Memory;
using UintrIpc.Rings;

namespace UintrIpc.Tests.Rings;

/// <summary>
/// What an SPSC record producer's first write costs for the clear of a killed predecessor's bytes
/// (uintripc.h 2g: nonzero bytes of [tail, claim_end), within head + capacity). Asserted: the shared memory it
/// makes this process map, read from /proc/self/status (RssShmem), not time. Reported: the
/// first and second write's times on a fresh and on a warm 64 MiB ring.
/// </summary>
public sealed class PredecessorClearCostTests(ITestOutputHelper output)
{
    private const int Capacity = 64 << 20;

    [Fact]
    public void The_first_write_on_a_fresh_large_ring_maps_only_what_it_writes()
    {
        using var region = SharedRegion.CreateAnonymous(RecordRing.Part(Capacity, maxMessageLength: 1024));
        using var consumer = new RecordRing(region);
        using var producer = new RecordRing(region);
        long before = RssShmemKiB();
        Assert.True(producer.TryWrite(1, new byte[64]));
        long grown = RssShmemKiB() - before;
        output.WriteLine($"RssShmem grew by {grown} KiB at the first write of a fresh {Capacity >> 20} MiB ring");
        Assert.True(grown < 8 << 10, $"the first write mapped {grown} KiB of the ring's {Capacity >> 10} KiB");
    }

    [Fact]
    public void First_write_times_are_reported()
    {
        var fresh = new List<double>();
        var warm = new List<double>();
        var second = new List<double>();
        for (int round = 0; round < 5; round++)
        {
            using var region = SharedRegion.CreateAnonymous(RecordRing.Part(Capacity, maxMessageLength: 1024));
            using (var producer = new RecordRing(region))
            {
                fresh.Add(Time(() => producer.TryWrite(1, new byte[64])));
                second.Add(Time(() => producer.TryWrite(1, new byte[64])));
            }

            Touch(region);
            using (var producer = new RecordRing(region))
            {
                warm.Add(Time(() => producer.TryWrite(1, new byte[64])));
            }
        }

        output.WriteLine($"{Capacity >> 20} MiB SPSC record ring, first write: fresh ring (no page touched) ms {string.Join(", ", fresh.Select(v => v.ToString("F2")))}");
        output.WriteLine($"  warm ring (every page resident, zero) ms {string.Join(", ", warm.Select(v => v.ToString("F2")))}");
        output.WriteLine($"  second write ms {string.Join(", ", second.Select(v => v.ToString("F4")))}");
    }

    private static unsafe void Touch(SharedRegion region)
    {
        // Reads one byte per page of the data area: every page resident.
        byte* data = region.PartPointer(region.FindPart(PartKind.SpscRecords, 0)) + RingLayout.ControlSize;
        int sum = 0;
        for (int at = 0; at < Capacity; at += 4096)
        {
            sum += Volatile.Read(ref data[at]);
        }

        GC.KeepAlive(sum);
    }

    private static double Time(Func<bool> write)
    {
        long start = Stopwatch.GetTimestamp();
        Assert.True(write());
        return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    }

    private static long RssShmemKiB()
    {
        foreach (string line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("RssShmem:", StringComparison.Ordinal))
            {
                return long.Parse(line.AsSpan(9).Trim().TrimEnd("kB").Trim());
            }
        }

        throw new InvalidOperationException("no RssShmem in /proc/self/status");
    }
}
