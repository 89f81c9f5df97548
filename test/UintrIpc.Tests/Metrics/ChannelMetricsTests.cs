using System.Diagnostics.Metrics;
using UintrIpc.Channels;
using UintrIpc.Signaling;
using UintrIpc.Tests.Infrastructure;
using UintrIpc.Tests.Signaling;

namespace UintrIpc.Tests.Metrics;

/// <summary>
/// The channel instruments after a known workload in one process, read through a
/// <see cref="MeterListener"/> on a meter factory of the test's own (so channels of tests
/// running in parallel do not show): every value exact.
/// </summary>
public sealed class ChannelMetricsTests : IDisposable
{
    private readonly ShmNames _names = new();

    /// <summary>The instruments every channel reports (message channels: all but the message counts).</summary>
    internal static readonly string[] ChannelInstruments =
    [
        "uintripc.channel.messages.sent", "uintripc.channel.messages.received", "uintripc.channel.bytes.sent", "uintripc.channel.bytes.received",
        "uintripc.channel.wakeups.sent", "uintripc.channel.wakeups.suppressed", "uintripc.channel.wakeups.seen", "uintripc.channel.sleeps", "uintripc.channel.timeouts",
        "uintripc.channel.ring.utilization",
    ];

    public void Dispose() => _names.Dispose();

    [Fact]
    public void A_slot_channel_reports_messages_bytes_sleeps_wakeups_timeouts_and_occupancy()
    {
        using var factory = new TestMeterFactory();
        using var listener = new InstrumentReader(i => i.Meter.Scope == factory);
        // No spinning: an empty read parks at once, so each blocking read below is exactly one sleep.
        var wait = new ChannelWaitOptions { MeterFactory = factory, SpinBudget = TimeSpan.Zero, YieldBudget = TimeSpan.Zero, MaxParkTime = TestWait.Long };
        using var channel = IpcChannel.CreateBounded<long>(new IpcChannelOptions { Capacity = 8, Doorbell = DoorbellKind.Futex, Wait = wait });
        var reader = channel.Reader;
        var writer = channel.Writer;
        string name = $"memfd-{channel.Region.Epoch:x16}";

        // 5 messages while the reader is awake: 5 wake checks that ring nothing.
        for (long i = 0; i < 5; i++)
        {
            Assert.True(writer.TryWrite(i));
        }

        for (long i = 0; i < 5; i++)
        {
            Assert.True(reader.TryRead(out long value));
            Assert.Equal(i, value);
        }

        // A blocking read of an empty channel: one sleep that ends by timeout.
        TestWait.UntilOneParkTimesOut(reader, TimeSpan.FromMilliseconds(50));

        // A blocking read woken by a write: one sleep, one wake-up sent.
        long woken = -1;
        var sleeper = new TestThread(() => woken = reader.Read(TestWait.Long), "sleeping reader");
        var waitBlock = new WaitBlock(channel.Region);
        TestWait.Until(() => waitBlock.IsConsumerSleeping, "the reader to announce its sleep");
        Assert.True(writer.TryWrite(5));
        sleeper.Join(TestWait.Long);
        Assert.Equal(5, woken);

        // 3 messages left in the ring of 8: 3 more suppressed wake checks, 3/8 in use.
        for (long i = 6; i < 9; i++)
        {
            Assert.True(writer.TryWrite(i));
        }

        var values = listener.Collect(out var tags);
        Assert.Equal(9, values[("uintripc.channel.messages.sent", name)]);
        Assert.Equal(6, values[("uintripc.channel.messages.received", name)]);
        Assert.Equal(9 * sizeof(long), values[("uintripc.channel.bytes.sent", name)]);
        Assert.Equal(6 * sizeof(long), values[("uintripc.channel.bytes.received", name)]);
        Assert.Equal(1, values[("uintripc.channel.wakeups.sent", name)]);
        Assert.Equal(8, values[("uintripc.channel.wakeups.suppressed", name)]);
        Assert.Equal(2, values[("uintripc.channel.sleeps", name)]);
        Assert.Equal(1, values[("uintripc.channel.timeouts", name)]);
        Assert.Equal(1, values[("uintripc.channel.wakeups.seen", name)]);
        Assert.Equal(3.0 / 8, values[("uintripc.channel.ring.utilization", name)]);
        Assert.Equal(
            [new("uintripc.channel.name", name), new("uintripc.ring.kind", "spsc_slots"), new("uintripc.doorbell", "futex")],
            tags[("uintripc.channel.messages.sent", name)]);
        Assert.Equal(ChannelInstruments.Length, values.Keys.Count(k => k.Key == name));
    }

    [Fact]
    public void A_message_channel_reports_ring_bytes_and_no_message_counts()
    {
        using var factory = new TestMeterFactory();
        using var listener = new InstrumentReader(i => i.Meter.Scope == factory);
        string name = _names.New("metrics-messages");
        using var channel = IpcChannel.CreateMessages(new IpcChannelOptions
        {
            Name = name, BufferSize = 1024, MultipleWriters = true, Doorbell = DoorbellKind.Futex, Wait = new ChannelWaitOptions { MeterFactory = factory },
        });
        var reader = channel.Reader;
        var writer = channel.Writer;

        // Each 10-byte payload takes 8 (header) + 10, rounded up to 24 bytes of ring.
        for (int i = 0; i < 3; i++)
        {
            Assert.True(writer.TryWrite(i, new byte[10]));
        }

        var buffer = new byte[16];
        for (int i = 0; i < 2; i++)
        {
            Assert.True(reader.TryRead(out int type, buffer, out int length));
            Assert.Equal((i, 10), (type, length));
        }

        var values = listener.Collect(out var tags);
        Assert.Equal(72, values[("uintripc.channel.bytes.sent", name)]);
        Assert.Equal(48, values[("uintripc.channel.bytes.received", name)]);
        Assert.Equal(24.0 / 1024, values[("uintripc.channel.ring.utilization", name)]);
        Assert.Equal(3, values[("uintripc.channel.wakeups.suppressed", name)]);
        Assert.False(values.ContainsKey(("uintripc.channel.messages.sent", name)), "message channels keep no message count in shared memory");
        Assert.Equal("mpsc_records", tags[("uintripc.channel.bytes.sent", name)].Single(t => t.Key == "uintripc.ring.kind").Value);
    }

    [Fact]
    public void A_channel_opened_twice_in_one_process_is_reported_once_and_a_disposed_one_no_more()
    {
        using var factory = new TestMeterFactory();
        using var listener = new InstrumentReader(i => i.Meter.Scope == factory);
        var wait = new ChannelWaitOptions { MeterFactory = factory };
        string name = _names.New("metrics-twice");
        using (var created = IpcChannel.CreateBounded<int>(new IpcChannelOptions { Name = name, Capacity = 4, Doorbell = DoorbellKind.Futex, Wait = wait }))
        {
            using var opened = IpcChannel.OpenNamed<int>(name, new IpcChannelOptions { MeterFactory = factory });
            Assert.True(opened.Writer.TryWrite(7));
            Assert.Equal(1, listener.Collect()[("uintripc.channel.messages.sent", name)]); // InstrumentReader throws on a duplicate
        }

        Assert.DoesNotContain(listener.Collect().Keys, k => k.Key == name);
    }

    [Fact]
    public void A_channel_whose_object_is_disposed_is_reported_while_something_still_maps_it()
    {
        using var factory = new TestMeterFactory();
        using var listener = new InstrumentReader(i => i.Meter.Scope == factory);
        var channel = IpcChannel.CreateBounded<long>(new IpcChannelOptions { Capacity = 4, Doorbell = DoorbellKind.Futex, Wait = new ChannelWaitOptions { MeterFactory = factory } });
        string name = $"memfd-{channel.Region.Epoch:x16}";
        Assert.True(channel.Writer.TryWrite(1));
        // As an async reader's waiter thread that has not left yet: a lease of its own.
        channel.Core.AddLease();
        channel.Dispose(); // the region object is disposed; the memory stays mapped for the lease
        try
        {
            Assert.Equal(1, listener.Collect()[("uintripc.channel.messages.sent", name)]);
        }
        finally
        {
            channel.Core.ReleaseLease(); // unmaps
        }

        Assert.DoesNotContain(listener.Collect().Keys, k => k.Key == name);
    }

    [Fact]
    public void Channels_without_a_meter_factory_report_to_the_process_meter_and_not_to_a_factory_one()
    {
        using var factory = new TestMeterFactory();
        using var shared = new InstrumentReader(i => i.Meter.Scope is null);
        using var scoped = new InstrumentReader(i => i.Meter.Scope == factory);
        using var channel = IpcChannel.CreateBounded<long>(4);
        string name = $"memfd-{channel.Region.Epoch:x16}";
        Assert.True(channel.Writer.TryWrite(1));
        Assert.True(channel.Writer.TryWrite(2));

        Assert.Equal(2, shared.Collect()[("uintripc.channel.messages.sent", name)]);
        Assert.DoesNotContain(scoped.Collect().Keys, k => k.Key == name);
        Assert.Equal("{message}", shared.Instruments["uintripc.channel.messages.sent"].Unit);
        Assert.Equal("By", shared.Instruments["uintripc.channel.bytes.sent"].Unit);
        Assert.IsAssignableFrom<ObservableInstrument<long>>(shared.Instruments["uintripc.channel.sleeps"]);
    }
}
