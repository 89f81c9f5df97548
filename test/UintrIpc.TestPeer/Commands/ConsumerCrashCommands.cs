using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Tmds.Linux;
using UintrIpc.Channels;
using UintrIpc.Memory;
using UintrIpc.Rings;

namespace UintrIpc.TestPeer.Commands;

/// <summary>
/// A record consumer that dies at a chosen store of its release: the moment a consumer killed
/// while it zeroes what it consumed, made deterministic (test/UintrIpc.Tests/Trust/ConsumerCrashTests.cs).
/// </summary>
internal static unsafe class ConsumerCrashCommands
{
    /// <summary>
    /// record-consumer-crash &lt;spsc|mpsc&gt; &lt;region name&gt;: reads the ring's records in one batch; while it
    /// handles the record of type 2, it makes the first whole page of that record's payload
    /// read-only in this process, so the release after the batch faults at its first store there.
    /// Prints "protected" before that; never returns normally.
    /// </summary>
    [PeerCommand("record-consumer-crash")]
    public static int Crash(string[] args)
    {
        using var region = SharedRegion.OpenNamed(args[1]);
        var handler = new ProtectingHandler();
        using var ring = new RecordRing(region); // args[0] (spsc or mpsc): the kind is read from the ring
        int read = ring.Read(ref handler);
        Console.WriteLine($"released {read} records without a fault: the protected page was not written");
        return 1;
    }

    private struct ProtectingHandler : IRecordHandler
    {
        public readonly void Handle(int type, ReadOnlySpan<byte> payload)
        {
            Console.WriteLine($"handled type {type}, {payload.Length} bytes");
            if (type != 2)
            {
                return;
            }

            long page = Environment.SystemPageSize;
            long start = (long)Unsafe.AsPointer(ref MemoryMarshal.GetReference(payload));
            long first = (start + page - 1) & ~(page - 1);
            if (first + page > start + payload.Length)
            {
                throw new InvalidOperationException("the payload holds no whole page");
            }

            if (LibC.mprotect((void*)first, (size_t)(ulong)page, LibC.PROT_READ) != 0)
            {
                throw new InvalidOperationException($"mprotect failed: errno {LibC.errno}");
            }

            Console.WriteLine($"protected payload bytes {first - start} to {first - start + page}");
            Console.Out.Flush();
        }
    }
}
