using System.Diagnostics;
using UintrIpc.Memory;
using UintrIpc.Signaling;

namespace UintrIpc.TestPeer.Commands;

/// <summary>Producer side of the cross-process doorbell tests (test/UintrIpc.Tests/Signaling).</summary>
internal static unsafe class SignalingCommands
{
    /// <summary>
    /// signaling-produce &lt;futex|eventfd|signal&gt; &lt;region name&gt; &lt;rounds&gt; [eventfd number]:
    /// opens the named region (a wait block and a User part whose first u64 counts published
    /// messages); for each round waits (bounded) until the consumer announced its sleep, publishes
    /// one message and calls WakeIfSleeping. The consumer is in the parent process.
    /// </summary>
    [PeerCommand("signaling-produce")]
    public static int Produce(string[] args)
    {
        string kind = args[0];
        using var region = SharedRegion.OpenNamed(args[1]);
        int rounds = int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture);
        var waitBlock = new WaitBlock(region, singleProducer: true);
        ulong* published = (ulong*)region.PartPointer(region.FindPart(PartKind.User));

        using DoorbellSender sender = kind switch
        {
            "futex" => new FutexDoorbellSender(waitBlock),
            "eventfd" => new EventFdDoorbellSender(int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture)),
            "signal" => new SignalDoorbellSender(waitBlock),
            _ => throw new ArgumentException($"unknown doorbell kind '{kind}'"),
        };

        for (int i = 0; i < rounds; i++)
        {
            long start = Stopwatch.GetTimestamp();
            while (!waitBlock.IsConsumerSleeping)
            {
                if (Stopwatch.GetElapsedTime(start) > TimeSpan.FromSeconds(20))
                {
                    Console.Error.WriteLine($"round {i}: the consumer did not go to sleep within 20 s; {waitBlock.ReadCounters()}");
                    return 3;
                }

                Thread.Yield();
            }

            // Publish (full fence), then the protocol's own fence and state check.
            Interlocked.Increment(ref *published);
            waitBlock.WakeIfSleeping(sender);
        }

        Console.WriteLine($"produced {rounds}");
        return 0;
    }
}
