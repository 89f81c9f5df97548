using System.Diagnostics;
using System.Text.Json;
using UintrIpc.Channels;
using UintrIpc.Rings;
using UintrIpc.Signaling;
using UintrIpc.Tests.Signaling;
using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.Cli;

/// <summary>`uintr-ipc inspect` on live channels of this process: positions, occupancy, wait block, counters, peers.</summary>
[Collection(CrossProcessCollection.Name)]
public sealed class CliInspectTests(ITestOutputHelper output) : IDisposable
{
    private static readonly ChannelWaitOptions s_parkAtOnce = new() { SpinBudget = TimeSpan.Zero, YieldBudget = TimeSpan.Zero };
    private readonly ShmNames _names = new();

    public void Dispose() => _names.Dispose();

    [Fact]
    public void Inspect_json_shows_ring_positions_occupancy_wait_block_counters_and_peers_of_a_named_channel()
    {
        string name = _names.New("cli");
        using var channel = IpcChannel.CreateBounded<long>(new IpcChannelOptions { Name = name,  Capacity = 64, Doorbell = DoorbellKind.Futex, Wait = s_parkAtOnce });
        var consumer = channel.Reader;
        var producer = channel.Writer;
        TestWait.UntilOneParkTimesOut(consumer, TimeSpan.FromMilliseconds(20));
        for (long i = 1; i <= 5; i++)
        {
            Assert.True(producer.TryWrite(i));
        }

        Assert.True(consumer.TryRead(out long first));
        Assert.True(consumer.TryRead(out long second));
        Assert.Equal((1L, 2L), (first, second));
        WaitBlockCounters counters = consumer.Counters;

        JsonElement region = CliTool.RunJson("inspect", name, "--json");
        output.WriteLine(region.ToString());

        Assert.Equal("/dev/shm/" + name, region.GetProperty("source").GetString());
        Assert.StartsWith("slot channel", region.GetProperty("kind").GetString(), StringComparison.Ordinal);
        Assert.Equal("Ready", region.GetProperty("state").GetString());
        Assert.Equal(channel.Region.Size, region.GetProperty("size").GetInt64());
        Assert.Equal(channel.Region.Epoch.ToString("x16", System.Globalization.CultureInfo.InvariantCulture), region.GetProperty("epoch").GetString());
        AssertThisProcess(region.GetProperty("creator"));
        Assert.Contains(region.GetProperty("attachedProcesses").EnumerateArray(), p => p.GetProperty("pid").GetInt32() == Environment.ProcessId);

        var parts = region.GetProperty("parts").EnumerateArray().ToArray();
        Assert.Equal(2, parts.Length);
        Assert.Equal("SpscSlots", parts[0].GetProperty("kind").GetString());
        var ring = parts[0].GetProperty("ring");
        Assert.Equal("slots", ring.GetProperty("unit").GetString());
        Assert.Equal(64, ring.GetProperty("capacity").GetInt64());
        Assert.Equal(sizeof(long), ring.GetProperty("elementSize").GetInt32());
        Assert.Equal(5UL, ring.GetProperty("producerPosition").GetUInt64());
        Assert.Equal(2UL, ring.GetProperty("consumerPosition").GetUInt64());
        Assert.Equal(3, ring.GetProperty("occupancy").GetInt64());
        Assert.Equal(4.7, ring.GetProperty("occupancyPercent").GetDouble()); // 3 / 64, one decimal
        Assert.Equal(JsonValueKind.Null, ring.GetProperty("problem").ValueKind);

        Assert.Equal("WaitBlock", parts[1].GetProperty("kind").GetString());
        var wait = parts[1].GetProperty("waitBlock");
        Assert.Equal("Futex", wait.GetProperty("doorbell").GetString());
        Assert.Equal("awake", wait.GetProperty("consumerState").GetString());
        AssertThisProcess(wait.GetProperty("consumer"));
        Assert.True(counters.Sleeps >= 1 && counters.Timeouts >= 1, $"the consumer did not park: {counters}");
        Assert.Equal(counters.Sleeps, wait.GetProperty("sleeps").GetUInt64());
        Assert.Equal(counters.Timeouts, wait.GetProperty("timeouts").GetUInt64());
        Assert.Equal(counters.WakeupsSeen, wait.GetProperty("wakeupsSeen").GetUInt64());
        Assert.Equal(counters.WakeupsSent, wait.GetProperty("wakeupsSent").GetUInt64());
        Assert.Equal(counters.WakeupsSuppressed, wait.GetProperty("wakeupsSuppressed").GetUInt64());
    }

    [Fact]
    public void Inspect_reaches_a_memfd_message_channel_through_proc_pid_fd()
    {
        using var channel = IpcChannel.CreateMessages(new IpcChannelOptions { Doorbell = DoorbellKind.Futex });
        var consumer = channel.Reader;
        var producer = channel.Writer;
        Assert.True(producer.TryWrite(1, "hello"u8));
        Assert.True(producer.TryWrite(2, "world"u8));
        string path = $"/proc/{Environment.ProcessId}/fd/{channel.Region.FdHandle.Fd}";

        JsonElement region = CliTool.RunJson("inspect", path, "--json");

        Assert.Equal(path, region.GetProperty("source").GetString());
        Assert.StartsWith("message channel", region.GetProperty("kind").GetString(), StringComparison.Ordinal);
        var ring = region.GetProperty("parts")[0].GetProperty("ring");
        Assert.Equal("bytes", ring.GetProperty("unit").GetString());
        Assert.Equal(channel.BufferSize, ring.GetProperty("capacity").GetInt64());
        Assert.Equal(channel.MaxMessageLength, ring.GetProperty("maxMessageLength").GetInt32());
        long record = (RingLayout.RecordHeaderSize + "hello".Length + RingLayout.RecordAlignment - 1) & ~(RingLayout.RecordAlignment - 1);
        Assert.Equal(2 * record, ring.GetProperty("occupancy").GetInt64());
        Assert.Equal(0UL, ring.GetProperty("consumerPosition").GetUInt64());
    }

    [Fact]
    public void Inspect_watch_prints_a_fresh_snapshot_as_the_channel_changes()
    {
        string name = _names.New("cliwatch");
        using var channel = IpcChannel.CreateBounded<long>(new IpcChannelOptions { Name = name,  Capacity = 16, Doorbell = DoorbellKind.Futex });
        var consumer = channel.Reader;
        var producer = channel.Writer;
        Assert.True(producer.TryWrite(1L));

        // --count is only a backstop; the test stops the tool once it has seen what it waits for.
        using var tool = ExternalProgram.Start(CliTool.StartInfo(["inspect", name, "--watch", "--json", "--interval", "50", "--count", "6000"]));
        try
        {
            Assert.Equal(1UL, ProducerPosition(NextLine(tool)));
            Assert.True(producer.TryWrite(2L) && producer.TryWrite(3L));
            // Each line is progress: the bound applies from the last line, not to the whole wait.
            ulong seen;
            while ((seen = ProducerPosition(NextLine(tool))) != 3)
            {
                Assert.Equal(1UL, seen);
            }
        }
        finally
        {
            tool.Kill(entireProcessTree: true);
            tool.WaitForExit(5000);
        }
    }

    private static string NextLine(Process tool)
    {
        var line = tool.StandardOutput.ReadLineAsync();
        Assert.True(line.Wait(TimeSpan.FromSeconds(30)), "uintr-ipc inspect --watch printed nothing for 30 s");
        return line.Result ?? throw new InvalidOperationException($"uintr-ipc exited: {tool.StandardError.ReadToEnd()}");
    }

    private static ulong ProducerPosition(string snapshotLine)
    {
        using var snapshot = JsonDocument.Parse(snapshotLine);
        return snapshot.RootElement.GetProperty("parts")[0].GetProperty("ring").GetProperty("producerPosition").GetUInt64();
    }

    private static void AssertThisProcess(JsonElement process)
    {
        Assert.Equal(Environment.ProcessId, process.GetProperty("pid").GetInt32());
        Assert.True(process.GetProperty("alive").GetBoolean());
        Assert.True(process.GetProperty("mapsRegion").GetBoolean());
    }
}
