using System.Runtime.InteropServices;
using System.Text.Json;
using UintrIpc.Bench.Processes;
using UintrIpc.Bench.Results;
using UintrIpc.Interop;
using UintrIpc.Rings;
using UintrIpc.Signaling;

namespace UintrIpc.Bench.Workloads.Latency;

/// <summary>
/// Round trips over two SPSC slot rings of the library (8-byte elements), spinning or with a
/// doorbell and the wake-up protocol, the consumer awake (spin budget) or asleep (parks at once).
/// Region: control part, ring tag 0 (parent to child), ring tag 1 (child to parent), wait
/// block tag 0 (the child's, consumer of ring 0), wait block tag 1 (the parent's). The duplex
/// variant (spinning only) has one duplex part instead of the two rings: requests in its ring 0,
/// responses in its ring 1, slot k of both in one line (uintripc.h 2h).
/// </summary>
internal static class RingPingPong
{
    private const int Capacity = 1024;

    /// <summary>Runs the pinger; <paramref name="kind"/> null = both consumers spin without a doorbell.</summary>
    public static BenchResult Run(BenchCase c, CaseContext ctx, DoorbellKind? kind, bool asleep, bool duplex = false)
    {
        if (duplex && kind is not null)
        {
            throw new ArgumentException("The duplex ping-pong spins: no doorbell.", nameof(kind));
        }

        using var region = duplex
            ? BenchRegions.Create(BenchRegions.ControlPart(), DuplexPart.Create(Capacity, sizeof(long), 0, sizeof(long), 0), WaitBlock.Part(0), WaitBlock.Part(1))
            : BenchRegions.Create(BenchRegions.ControlPart(), SlotRing<long>.Part(Capacity, tag: 0), SlotRing<long>.Part(Capacity, tag: 1), WaitBlock.Part(0), WaitBlock.Part(1));
        var (toChild, fromChild) = Rings(region, duplex);
        var args = ctx.ChildArgs("pingpong-ring").Set("doorbell", kind is { } k ? DoorbellNames.Of(k) : "spin")
            .Set("spin-ns", asleep ? 0 : (long)(ctx.Options.SpinBudget.TotalMilliseconds * 1e6)).Set("duplex", duplex ? 1 : 0);
        if (kind is null)
        {
            using var spinChild = ChildProcess.Start(args, region);
            spinChild.WaitForStart("READY", ctx.SetupTimeout);
            var spin = new RingSpinTransport(toChild, fromChild, ctx.Deadline);
            return BaselinePingPong.Measure(c, ctx, spinChild, ref spin);
        }

        var myWait = new WaitBlock(region, 1u, singleProducer: true);
        var childWait = new WaitBlock(region, 0u, singleProducer: true);
        // The receiver binds to this thread (signal, uintr): create, use and dispose it here.
        using var myBell = Doorbells.CreateReceiver(kind.Value, myWait);
        using var child = ChildProcess.Start(args, region, ReceiverFd(myBell));
        var ready = child.WaitForStart("READY", ctx.SetupTimeout);
        int childFd = ready.GetProperty("fd").GetInt32();
        using var childFdHandle = childFd >= 0 ? FdPassing.FromProcess(child.Id, childFd) : null;
        using var childBell = Doorbells.CreateSender(kind.Value, childWait, childFdHandle);
        var transport = new RingDoorbellTransport(toChild, childWait, childBell, fromChild, myWait, myBell,
            asleep ? TimeSpan.Zero : ctx.Options.SpinBudget, ctx.Deadline);
        return Measure(c, ctx, child, ref transport, childWait, myWait);
    }

    public static void Child(ChildArgs args, ChildChannel channel, Deadline deadline)
    {
        using var region = BenchRegions.Open(args);
        var (rx, tx) = Rings(region, args.GetInt("duplex") != 0);
        string doorbell = args.Get("doorbell");
        if (doorbell == "spin")
        {
            var spin = new RingSpinTransport(tx, rx, deadline);
            channel.Ready(new { fd = -1 });
            channel.Result(LatencyReport.EchoerPayload(PingPong.Echoer(ref spin)));
            return;
        }

        var kind = DoorbellNames.Parse(doorbell);
        var myWait = new WaitBlock(region, 0u);
        var parentWait = new WaitBlock(region, 1u, singleProducer: true);
        using var myBell = Doorbells.CreateReceiver(kind, myWait);
        int peerFd = args.GetInt("peer-fd");
        // The inherited descriptor is ours to close; the sender keeps its own duplicate.
        using var parentFd = peerFd >= 0 ? new SafeFdHandle(peerFd, ownsHandle: true) : null;
        using var parentBell = Doorbells.CreateSender(kind, parentWait, parentFd);
        var transport = new RingDoorbellTransport(tx, parentWait, parentBell, rx, myWait, myBell,
            TimeSpan.FromMilliseconds(args.GetLong("spin-ns") / 1e6), deadline);
        channel.Ready(new { fd = ReceiverFd(myBell) is { } fd ? (int)fd.DangerousGetHandle() : -1 });
        channel.Result(LatencyReport.EchoerPayload(PingPong.Echoer(ref transport)));
    }

    /// <summary>The ring to the child (tag 0, or ring 0 of the duplex part) and the ring from it.</summary>
    private static (SlotRing<long> ToChild, SlotRing<long> FromChild) Rings(UintrIpc.Memory.SharedRegion region, bool duplex)
    {
        if (!duplex)
        {
            return (new SlotRing<long>(region, 0u), new SlotRing<long>(region, 1u));
        }

        var part = region.FindPart(UintrIpc.Memory.PartKind.DuplexSlots, 0);
        return (new SlotRing<long>(region, DuplexPart.Ring(part, DuplexPart.Requests)), new SlotRing<long>(region, DuplexPart.Ring(part, DuplexPart.Responses)));
    }

    /// <summary>
    /// The descriptor a sender in the other process needs for this receiver: the eventfd, the
    /// uintr vector fd, or for signals a pidfd of the receiver's process (a signal sender
    /// without it targets its own process and refuses the peer's thread); null for futex.
    /// </summary>
    private static SafeHandle? ReceiverFd(DoorbellReceiver receiver) => receiver switch
    {
        EventFdDoorbellReceiver e => e.FileHandle,
        UintrDoorbellReceiver u => u.VectorFd,
        SignalDoorbellReceiver s => s.ProcessFd,
        _ => null,
    };

    private static BenchResult Measure(BenchCase c, CaseContext ctx, ChildProcess child, ref RingDoorbellTransport transport, WaitBlock childWait, WaitBlock myWait)
    {
        long samples = c.Consumer == "spinning" ? ctx.Options.SpinSamples : ctx.Options.SleepSamples;
        var buffer = new long[samples];
        var child0 = childWait.ReadCounters();
        var mine0 = myWait.ReadCounters();
        var pinger = PingPong.Pinger(ref transport, Math.Max(1, samples / 10), ctx.Options.WarmupTime, buffer,
            c.Consumer == "asleep" ? ctx.Options.Gap : TimeSpan.Zero);
        JsonElement echoer = child.WaitFor("RESULT", ctx.Deadline.Remaining + TimeSpan.FromSeconds(5));
        var child1 = childWait.ReadCounters();
        var mine1 = myWait.ReadCounters();

        // Over the whole exchange (warm-up, mark and samples: two messages per round trip).
        double messages = 2.0 * (pinger.WarmupRoundTrips + 1 + pinger.RoundTrips);
        double wakes = (child1.WakeupsSent - child0.WakeupsSent + mine1.WakeupsSent - mine0.WakeupsSent) / messages;
        double sleeps = (child1.Sleeps - child0.Sleeps + mine1.Sleeps - mine0.Sleeps) / messages;
        var extra = new Dictionary<string, double>(StringComparer.Ordinal)
        {
            ["park_timeouts"] = child1.Timeouts - child0.Timeouts + mine1.Timeouts - mine0.Timeouts,
            ["wakeups_suppressed"] = child1.WakeupsSuppressed - child0.WakeupsSuppressed + mine1.WakeupsSuppressed - mine0.WakeupsSuppressed,
        };
        return LatencyReport.Build(c, buffer, pinger, echoer, wakes, sleeps, extra);
    }
}
