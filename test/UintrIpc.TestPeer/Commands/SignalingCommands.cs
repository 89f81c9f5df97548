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
            // The consumer is our parent: getppid() is the kernel's word, a trusted identity.
            "signal" => new SignalDoorbellSender(waitBlock, ProcessHandle.Open(Tmds.Linux.LibC.getppid())),
            _ => throw new ArgumentException($"unknown doorbell kind '{kind}'"),
        };

        for (int i = 0; i < rounds; i++)
        {
            long start = Stopwatch.GetTimestamp();
            while (!waitBlock.IsConsumerSleeping)
            {
                if (Stopwatch.GetElapsedTime(start) > TimeSpan.FromSeconds(20))
                {
                    Console.Error.WriteLine($"round {i}: the consumer did not go to sleep within 20 s; {waitBlock.ReadCounters()}{(sender is SignalDoorbellSender s ? $", refused rings {s.RefusedRings}" : "")}");
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

    /// <summary>
    /// signal-hostile-target &lt;own-thread|unrelated-process|not-the-consumer&gt;: forges a wait block
    /// that announces a sleeping consumer and names a target the producer must never signal: a
    /// thread of this process without a receiver (its default action would kill us), an
    /// unrelated process (a child "sleep") for a producer whose consumer is in this process, or
    /// such a process for a producer whose consumer is another process (a second "sleep", named
    /// by pidfd). Then runs the producer's wake check. Exit 0 when nothing was signalled (we and
    /// the victim are alive, and the sender counted one refused ring); 3 otherwise.
    /// </summary>
    [PeerCommand("signal-hostile-target")]
    public static int HostileTarget(string[] args)
    {
        using var region = SharedRegion.CreateAnonymous(WaitBlock.Part());
        var waitBlock = new WaitBlock(region, singleProducer: true);
        byte* block = region.PartPointer(region.FindPart(PartKind.WaitBlock));
        using var victim = args[0] == "own-thread" ? null : Process.Start(new ProcessStartInfo("sleep", "30") { UseShellExecute = false })!;
        try
        {
            int pid = victim?.Id ?? Environment.ProcessId;
            int tid = victim?.Id ?? Interop.Sys.GetTid(); // a process's main thread: tid == pid
            *(int*)(block + WaitBlockLayout.ConsumerPidOffset) = pid;
            *(int*)(block + WaitBlockLayout.ConsumerTidOffset) = tid;
            *(uint*)(block + WaitBlockLayout.ConsumerStateOffset) = WaitBlockLayout.ConsumerSleeping;

            using var consumer = args[0] == "not-the-consumer" ? Process.Start(new ProcessStartInfo("sleep", "30") { UseShellExecute = false })! : null;
            using SignalDoorbellSender sender = consumer is not null
                ? new SignalDoorbellSender(waitBlock, ProcessHandle.Open(consumer.Id)) // the trusted consumer is another process
                : new SignalDoorbellSender(waitBlock);                                 // consumer in this process
            waitBlock.WakeIfSleeping(sender);
            Thread.Sleep(200); // a delivered signal would have acted by now

            bool victimAlive = (victim is null || !victim.HasExited) && (consumer is null || !consumer.HasExited);
            consumer?.Kill();
            Console.WriteLine($"{args[0]}: alive, victim alive {victimAlive}, refused rings {sender.RefusedRings}, sent {waitBlock.ReadCounters().WakeupsSent}");
            return victimAlive && sender.RefusedRings == 1 ? 0 : 3;
        }
        finally
        {
            if (victim is { HasExited: false })
            {
                victim.Kill();
                victim.WaitForExit(5000);
            }
        }
    }

    /// <summary>
    /// eventfd-toggle-jam &lt;inherited eventfd&gt; &lt;seconds&gt;: a hostile consumer of the eventfd
    /// doorbell (review22). Fills the counter to 2^64-2, prints "jamming", then for the given time
    /// toggles O_NONBLOCK on the shared file description in a tight loop, so that a producer's ring
    /// that saw the flag set may write after it was cleared and wait behind the full counter; every
    /// 64 toggles it refills the counter if it has room again (the producer's 1 went in).
    /// </summary>
    [PeerCommand("eventfd-toggle-jam")]
    public static int ToggleJam(string[] args)
    {
        int fd = int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture);
        var end = Stopwatch.GetTimestamp() + (long.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) * Stopwatch.Frequency);
        int flags = Tmds.Linux.LibC.fcntl(fd, Tmds.Linux.LibC.F_GETFL, 0);
        int blocking = flags & ~Tmds.Linux.LibC.O_NONBLOCK, nonBlocking = flags | Tmds.Linux.LibC.O_NONBLOCK;
        Fill(fd, nonBlocking);
        Console.WriteLine("jamming");
        for (long toggles = 0; Stopwatch.GetTimestamp() < end; toggles++)
        {
            _ = Tmds.Linux.LibC.fcntl(fd, Tmds.Linux.LibC.F_SETFL, nonBlocking);
            _ = Tmds.Linux.LibC.fcntl(fd, Tmds.Linux.LibC.F_SETFL, blocking);
            if ((toggles & 63) == 0)
            {
                var pollFd = new UintrIpc.Interop.Sys.PollFd { Fd = fd, Events = UintrIpc.Interop.Sys.POLLOUT };
                if (UintrIpc.Interop.Sys.Poll(&pollFd, 1, 0) > 0 && (pollFd.ReturnedEvents & UintrIpc.Interop.Sys.POLLOUT) != 0)
                {
                    Fill(fd, nonBlocking);
                }
            }
        }

        return 0;
    }

    /// <summary>Empties the counter (without waiting) and writes 2^64-2 with O_NONBLOCK set, until it holds.</summary>
    private static void Fill(int fd, int nonBlocking)
    {
        ulong full = ulong.MaxValue - 1;
        do
        {
            _ = Tmds.Linux.LibC.fcntl(fd, Tmds.Linux.LibC.F_SETFL, nonBlocking);
            _ = EventFdDoorbellReceiver.ReadCounter(fd, readWhereNoWaitIsRefused: true);
        }
        while (Tmds.Linux.LibC.write(fd, &full, 8) != 8);
    }
}
