using System.Diagnostics;
using System.Runtime.InteropServices;
using UintrIpc.Memory;
using UintrIpc.Rings;
using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.Layout;

/// <summary>The element both sides agree on (struct echo_msg in test/native/echo_peer.c).</summary>
[StructLayout(LayoutKind.Sequential)]
public readonly record struct EchoMessage(ulong Sequence, long Value);

/// <summary>
/// A C program written only against uintripc.h exchanges messages with the C# slot ring:
/// C# produces into ring 0 and consumes ring 1, the C peer does the reverse, so both halves
/// of the §2a protocol are checked against an independent implementation, across laps.
/// </summary>
[Collection(CrossProcessCollection.Name)]
public sealed unsafe class CPeerEchoTests : IDisposable
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(60);
    private readonly ShmNames _names = new();

    public void Dispose() => _names.Dispose();

    [Theory]
    [InlineData(64, 20_000)]
    [InlineData(2, 2_000)]
    public void The_C_peer_echoes_every_message_in_order(int capacity, int count)
    {
        Assert.Equal(16, sizeof(EchoMessage));
        string name = _names.New("echo");
        using var region = SharedRegion.CreateNamed(name, 0,
            SlotRing<EchoMessage>.Part(capacity, tag: 0), SlotRing<EchoMessage>.Part(capacity, tag: 1));
        var requests = new SlotRing<EchoMessage>(region, region.FindPart(PartKind.SpscSlots, 0));
        var replies = new SlotRing<EchoMessage>(region, region.FindPart(PartKind.SpscSlots, 1));

        using var peer = CPeer.Start(name, count, s_timeout);
        int sent = 0, received = 0;
        var deadline = Stopwatch.GetTimestamp() + (long)(s_timeout.TotalSeconds * Stopwatch.Frequency);
        var spinner = default(SpinWait);
        while (received < count)
        {
            bool progress = false;
            while (sent < count && requests.TryWrite(new EchoMessage((ulong)sent, ValueOf(sent))))
            {
                sent++;
                progress = true;
            }

            while (replies.TryRead(out var reply))
            {
                Assert.True(received < count, $"an extra reply {reply} after {count}");
                Assert.Equal(new EchoMessage((ulong)received, unchecked((ValueOf(received) * 2) + 1)), reply);
                received++;
                progress = true;
            }

            if (progress)
            {
                spinner.Reset();
                continue;
            }

            Assert.True(Stopwatch.GetTimestamp() < deadline, $"no progress: sent {sent}, received {received} of {count}");
            spinner.SpinOnce(sleep1Threshold: -1);
        }

        var result = peer.Finish();
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains($"echoed {count}", result.StandardOutput, StringComparison.Ordinal);
        Assert.False(replies.TryRead(out _));

        // Both sides left the positions where the protocol says: everything produced was consumed.
        foreach (uint tag in new uint[] { 0, 1 })
        {
            byte* ring = region.PartPointer(region.FindPart(PartKind.SpscSlots, tag));
            Assert.Equal((ulong)count, Volatile.Read(ref *(ulong*)(ring + RingLayout.TailOffset)));
            Assert.Equal((ulong)count, Volatile.Read(ref *(ulong*)(ring + RingLayout.HeadOffset)));
        }
    }

    /// <summary>Values that use all 64 bits, negative ones included, so a truncation shows.</summary>
    private static long ValueOf(int i) => unchecked((long)((ulong)(i + 1) * 0x9E3779B97F4A7C15UL));
}
