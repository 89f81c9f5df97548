using System.Text.Json;
using UintrIpc.Signaling;
using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.Cli;

/// <summary>`uintr-ipc info`: what this machine supports, as the library detects it, in JSON and as tables.</summary>
[Collection(CrossProcessCollection.Name)]
public sealed class CliInfoTests
{
    [Fact]
    public void Info_json_reports_the_kernel_user_interrupts_doorbells_and_pages_the_library_detects()
    {
        JsonElement info = CliTool.RunJson("info", "--json");

        Assert.Equal(File.ReadAllText("/proc/sys/kernel/osrelease").Trim(), info.GetProperty("kernel").GetString());
        var uintr = info.GetProperty("userInterrupts");
        var support = UintrSupport.Detect();
        Assert.Equal(support.IsAvailable, uintr.GetProperty("available").GetBoolean());
        Assert.Equal(support.Reason, uintr.GetProperty("reason").GetString());
        Assert.Equal(support.FailedStep.ToString(), uintr.GetProperty("failedStep").GetString());
        Assert.Equal(support.Variant, uintr.GetProperty("kernelVariant").GetString());
        Assert.Equal(support.Errno, uintr.GetProperty("errno").GetInt32());

        var doorbells = info.GetProperty("doorbells").EnumerateArray().ToDictionary(d => d.GetProperty("kind").GetString()!);
        foreach (var capability in Doorbells.All)
        {
            var reported = doorbells[capability.Kind.ToString()];
            Assert.Equal(capability.IsAvailable, reported.GetProperty("available").GetBoolean());
            Assert.False(string.IsNullOrEmpty(reported.GetProperty("reason").GetString()));
        }

        Assert.Equal(Doorbells.Best.ToString(), info.GetProperty("bestDoorbell").GetString());

        var memory = info.GetProperty("memory");
        Assert.Equal(Environment.SystemPageSize, memory.GetProperty("pageSize").GetInt32());
        string[] pools = Directory.Exists("/sys/kernel/mm/hugepages") ? Directory.GetDirectories("/sys/kernel/mm/hugepages", "hugepages-*kB") : [];
        Assert.Equal(pools.Length, memory.GetProperty("hugePageSizes").GetArrayLength());
        foreach (var pool in memory.GetProperty("hugePageSizes").EnumerateArray())
        {
            long kb = pool.GetProperty("sizeBytes").GetInt64() / 1024;
            string dir = $"/sys/kernel/mm/hugepages/hugepages-{kb}kB";
            Assert.Equal(long.Parse(File.ReadAllText(Path.Combine(dir, "nr_hugepages")), System.Globalization.CultureInfo.InvariantCulture), pool.GetProperty("total").GetInt64());
        }

        Assert.EndsWith("/libuintripc.so", info.GetProperty("nativeShim").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Info_tables_name_every_doorbell_and_the_user_interrupt_reason()
    {
        var result = CliTool.Run("info");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("User interrupts (UINTR)", result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains(UintrSupport.Detect().Reason, result.StandardOutput, StringComparison.Ordinal);
        foreach (var kind in Enum.GetNames<DoorbellKind>())
        {
            Assert.Contains(kind, result.StandardOutput, StringComparison.Ordinal);
        }

        Assert.Contains("Page size", result.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public void Help_lists_the_commands_and_the_exit_codes()
    {
        var result = CliTool.Run("--help");
        Assert.Equal(0, result.ExitCode);
        foreach (string word in (string[])["info", "inspect", "bench", "Exit codes", "uintr-ipc"])
        {
            Assert.Contains(word, result.StandardOutput, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_wrong_command_line_exits_2_and_says_what_is_wrong()
    {
        var missing = CliTool.Run("inspect");
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("Required argument missing", missing.StandardError, StringComparison.Ordinal);
        Assert.Contains("uintr-ipc inspect --help", missing.StandardError, StringComparison.Ordinal);

        var badInterval = CliTool.Run("inspect", "x", "--watch", "--interval", "1");
        Assert.Equal(2, badInterval.ExitCode);
        Assert.Contains("--interval must be between", badInterval.StandardError, StringComparison.Ordinal);

        var unknown = CliTool.Run("frobnicate");
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("frobnicate", unknown.StandardError, StringComparison.Ordinal);
    }
}
