using System.Diagnostics;
using System.Globalization;
using Tmds.Linux;
using UintrIpc.Channels;
using UintrIpc.Memory;
using UintrIpc.Tests.Rings;
using UintrIpc.Rings;
using UintrIpc.Tests.Infrastructure;
using UintrIpc.Tests.Signaling;

namespace UintrIpc.Tests.Metrics;

/// <summary>
/// Metrics that need the process to themselves: the error counts (process-wide, and other
/// tests raise the same errors), a writer in a child process (UintrIpc.TestPeer), and the
/// allocations of the data path while a listener is enabled.
/// </summary>
[Collection(CrossProcessCollection.Name)]
public sealed class MetricsSerialTests(ITestOutputHelper output)
{
    private static readonly string s_peerGone = typeof(PeerGoneException).FullName!;
    private static readonly string s_corrupted = typeof(RingCorruptedException).FullName!;

    [Fact]
    public void A_lost_reader_and_a_corrupted_ring_each_count_one_error()
    {
        using var factory = new TestMeterFactory();
        using var listener = new InstrumentReader(i => i.Meter.Scope == factory);
        var wait = new ChannelWaitOptions { MeterFactory = factory };
        IReadOnlyDictionary<(string, string), double> before;

        // The reader leaves (its heartbeat says detached); a write that waits for room learns it.
        using (var channel = IpcChannel.CreateBounded<long>(new IpcChannelOptions { Capacity = 2, Doorbell = DoorbellKind.Futex, Wait = wait }))
        {
            before = listener.Collect(); // the factory's meter exists from its first channel on
            channel.Reader.Dispose();
            Assert.True(channel.Writer.TryWrite(1));
            Assert.True(channel.Writer.TryWrite(2));
            Assert.Throws<PeerGoneException>(() => channel.Writer.TryWrite(3, TestWait.Long));
        }

        var afterPeerGone = listener.Collect();
        Assert.Equal(before[("uintripc.errors", s_peerGone)] + 1, afterPeerGone[("uintripc.errors", s_peerGone)]);
        Assert.Equal(before[("uintripc.errors", s_corrupted)], afterPeerGone[("uintripc.errors", s_corrupted)]);

        // A writer that forges the sequence of the slot the reader reads next.
        using (var channel = IpcChannel.CreateBounded<long>(new IpcChannelOptions { Capacity = 8, Doorbell = DoorbellKind.Futex, Wait = wait }))
        {
            unsafe
            {
                byte* ring = channel.Region.PartPointer(channel.Core.RingPart);
                Volatile.Write(ref *(ulong*)(ring + RingLayout.ControlSize), 12345UL); // slot 0's sequence: neither 0 (not yet) nor 1 (published)
            }

            Assert.Throws<RingCorruptedException>(() => channel.Reader.TryRead(out _));
        }

        var after = listener.Collect();
        Assert.Equal(before[("uintripc.errors", s_corrupted)] + 1, after[("uintripc.errors", s_corrupted)]);
        Assert.Equal(afterPeerGone[("uintripc.errors", s_peerGone)], after[("uintripc.errors", s_peerGone)]);
    }

    [Fact]
    public void A_producer_thread_that_finds_the_producer_table_full_of_live_producers_counts_once()
    {
        using var factory = new TestMeterFactory();
        using var listener = new InstrumentReader(i => i.Meter.Scope == factory);
        using (IpcChannel.CreateBounded<long>(new IpcChannelOptions { Capacity = 2, Wait = new ChannelWaitOptions { MeterFactory = factory } }))
        {
        }

        using var names = new ShmNames();
        using var region = SharedRegion.CreateNamed(names.New("fulltable"), 0, SlotRing<long>.Part(16, multipleProducers: true));
        var memory = RingMemory.Of(region, PartKind.MpscSlots);
        for (int entry = 0; entry < RingLayout.DefaultProducerSlots; entry++)
        {
            memory.Register(entry, Environment.ProcessId, 0, 0, 0); // this live process holds every entry
        }

        double before = listener.Collect()[("uintripc.ring.producers.unregistered", "")];
        using var producer = new SlotRing<long>(region);
        Assert.True(producer.TryWrite(1));
        Assert.True(producer.TryWrite(2)); // the same thread and object: registered once
        Assert.Equal(before + 1, listener.Collect()[("uintripc.ring.producers.unregistered", "")]);
        Assert.Equal(1u, memory.ControlWord(RingLayout.UnregisteredOffset));
    }

    [Fact]
    public void A_writer_in_another_process_shows_in_the_readers_metrics()
    {
        const int Count = 3000;
        using var factory = new TestMeterFactory();
        using var listener = new InstrumentReader(i => i.Meter.Scope == factory);
        using var channel = IpcChannel.CreateBounded<long>(new IpcChannelOptions
        {
            Capacity = 64, Doorbell = DoorbellKind.Futex, Wait = new ChannelWaitOptions { MeterFactory = factory },
        });
        string name = $"memfd-{channel.Region.Epoch:x16}";
        var reader = channel.Reader;

        // channel-produce slot <region fd> - <bursts> <burst> <pause ms>: 3000 values, then Complete.
        int fd = LibC.fcntl((int)channel.Region.FileHandle.DangerousGetHandle(), LibC.F_DUPFD, 3); // inheritable (no FD_CLOEXEC)
        Assert.True(fd >= 0, $"fcntl(F_DUPFD) failed: errno {LibC.errno}");
        PeerProcess peer;
        try
        {
            peer = PeerProcess.Start(output, "channel-produce", "slot", fd.ToString(CultureInfo.InvariantCulture), "-", "1", Count.ToString(CultureInfo.InvariantCulture), "0");
        }
        finally
        {
            Assert.Equal(0, LibC.close(fd));
        }

        using (peer)
        {
            // Spin (never announce a sleep), so the writer's every wake check is suppressed.
            long expected = 0;
            var progress = Stopwatch.StartNew();
            while (!reader.IsCompleted)
            {
                Assert.True(progress.Elapsed < PeerProcess.DefaultTimeout, $"only {expected} values arrived");
                if (reader.TryRead(out long value))
                {
                    Assert.Equal(expected++, value);
                    progress.Restart();
                }
                else
                {
                    Thread.SpinWait(20);
                }
            }

            Assert.Equal(Count, expected);
            peer.AssertSuccess();
        }

        var values = listener.Collect();
        Assert.Equal(Count, values[("uintripc.channel.messages.sent", name)]);
        Assert.Equal(Count, values[("uintripc.channel.messages.received", name)]);
        Assert.Equal(Count * sizeof(long), values[("uintripc.channel.bytes.sent", name)]);
        Assert.Equal(Count * sizeof(long), values[("uintripc.channel.bytes.received", name)]);
        Assert.Equal(Count + 1, values[("uintripc.channel.wakeups.suppressed", name)]); // one check per write, one for Complete
        Assert.Equal(0, values[("uintripc.channel.wakeups.sent", name)]);
        Assert.Equal(0, values[("uintripc.channel.sleeps", name)]);
        Assert.Equal(0, values[("uintripc.channel.ring.utilization", name)]);
    }

    [Fact]
    public void Writes_and_reads_allocate_nothing_while_a_listener_has_every_instrument_enabled()
    {
        const int Messages = 20_000;
        using var factory = new TestMeterFactory();
        using var listener = new InstrumentReader(i => i.Meter.Scope == factory);
        using var channel = IpcChannel.CreateBounded<long>(new IpcChannelOptions
        {
            Capacity = 64, Doorbell = DoorbellKind.Futex, Wait = new ChannelWaitOptions { MeterFactory = factory },
        });
        var reader = channel.Reader;
        var writer = channel.Writer;
        Assert.All(ChannelMetricsTests.ChannelInstruments, name => Assert.True(listener.Instruments.ContainsKey(name), $"{name} is not enabled"));

        long Run()
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (long i = 0; i < Messages; i++)
            {
                if (!writer.TryWrite(i) || !reader.TryRead(out long value) || value != i)
                {
                    throw new InvalidOperationException($"message {i} did not go through");
                }
            }

            return GC.GetAllocatedBytesForCurrentThread() - before;
        }

        Run(); // warm up (tiered compilation)
        long allocated = Run();
        var values = listener.Collect();
        output.WriteLine($"{allocated} bytes allocated for {Messages} messages");
        Assert.Equal(0, allocated);
        Assert.Equal(2 * Messages, values[("uintripc.channel.messages.received", $"memfd-{channel.Region.Epoch:x16}")]);
    }
}
