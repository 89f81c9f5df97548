using System.Text.Json;
using UintrIpc.Channels;
using UintrIpc.Memory;
using UintrIpc.Rings;
using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.Cli;

/// <summary>
/// `uintr-ipc inspect` on what is not a healthy region: each case gets its own exit code and a
/// message that says what is wrong and what to do.
/// </summary>
[Collection(CrossProcessCollection.Name)]
public sealed unsafe class CliErrorTests : IDisposable
{
    private readonly ShmNames _names = new();

    public void Dispose() => _names.Dispose();

    [Fact]
    public void A_region_that_does_not_exist_exits_3()
    {
        string name = _names.New("missing");
        var result = CliTool.Run("inspect", name);
        Assert.Equal(3, result.ExitCode);
        Assert.Contains($"no region named '{name}'", result.StandardError, StringComparison.Ordinal);
        Assert.Contains("/dev/shm", result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_of_another_program_exits_5()
    {
        string text = _names.New("text");
        File.WriteAllText("/dev/shm/" + text, string.Concat(Enumerable.Repeat("another program's shared memory\n", 200)));
        var result = CliTool.Run("inspect", text);
        Assert.Equal(5, result.ExitCode);
        Assert.Contains("is not a UintrIpc region", result.StandardError, StringComparison.Ordinal);
        Assert.Contains("another program", result.StandardError, StringComparison.Ordinal);

        string tiny = _names.New("tiny");
        File.WriteAllBytes("/dev/shm/" + tiny, [1, 2, 3]);
        var small = CliTool.Run("inspect", tiny, "--timeout", "0");
        Assert.Equal(5, small.ExitCode);
        Assert.Contains("less than a region header", small.StandardError, StringComparison.Ordinal);

        string zeros = _names.New("zeros");
        File.WriteAllBytes("/dev/shm/" + zeros, new byte[4096]);
        var unpublished = CliTool.Run("inspect", zeros, "--timeout", "0");
        Assert.Equal(5, unpublished.ExitCode);
        Assert.Contains("not a published UintrIpc region", unpublished.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public void A_corrupted_header_exits_6_naming_the_field()
    {
        string name = _names.New("corrupt");
        using var region = SharedRegion.CreateNamed(name, 0, new PartSpec(PartKind.User, 0, 4096));
        *(uint*)(region.BasePointer + RegionLayout.PartCountOffset) = RegionLayout.MaxParts + 1;
        var result = CliTool.Run("inspect", name);
        Assert.Equal(6, result.ExitCode);
        Assert.Contains("corrupted UintrIpc region", result.StandardError, StringComparison.Ordinal);
        Assert.Contains("part count", result.StandardError, StringComparison.Ordinal);

        *(uint*)(region.BasePointer + RegionLayout.PartCountOffset) = 1;
        *(ushort*)(region.BasePointer + RegionLayout.VersionOffset) = RegionLayout.LayoutVersion + 1;
        var version = CliTool.Run("inspect", name);
        Assert.Equal(6, version.ExitCode);
        Assert.Contains("another layout version", version.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public void A_corrupted_ring_is_reported_in_its_part_and_the_rest_is_still_shown()
    {
        string name = _names.New("badring");
        using var channel = IpcChannel.CreateBounded<long>(new IpcChannelOptions { Name = name });
        byte* ring = channel.Region.PartPointer(channel.Region.Parts[0]);
        *(ulong*)(ring + RingLayout.CapacityOffset) = 3; // not a power of two
        string badDescriptor = CliTool.RunJson("inspect", name, "--json").GetProperty("parts")[0].GetProperty("problem").GetString()!;
        Assert.Contains("ring capacity", badDescriptor, StringComparison.Ordinal);
        *(ulong*)(ring + RingLayout.CapacityOffset) = (ulong)channel.Capacity;

        *(ulong*)(ring + RingLayout.HeadOffset) = 10; // consumer past the producer
        JsonElement region = CliTool.RunJson("inspect", name, "--json");
        Assert.Contains("past the producer position", region.GetProperty("parts")[0].GetProperty("ring").GetProperty("problem").GetString(), StringComparison.Ordinal);
        Assert.Equal(JsonValueKind.Null, region.GetProperty("parts")[0].GetProperty("ring").GetProperty("occupancyPercent").ValueKind);
        Assert.Equal("Futex", region.GetProperty("parts")[1].GetProperty("waitBlock").GetProperty("doorbell").GetString());
        *(ulong*)(ring + RingLayout.HeadOffset) = 0;
    }

    [Fact]
    public void A_region_this_user_may_not_open_exits_4()
    {
        string name = _names.New("private");
        using var region = SharedRegion.CreateNamed(name, UnixFileMode.None, 0, new PartSpec(PartKind.User, 0, 4096));
        // root opens any file; without CAP_DAC_OVERRIDE (dropped from the bounding set for the child) it is refused like anyone.
        string[] wrapper = Environment.UserName == "root" || Tmds.Linux.LibC.geteuid() == 0
            ? [ExternalProgram.FindOnPath("setpriv") ?? throw new InvalidOperationException("setpriv (util-linux) is needed to test permission errors as root"), "--bounding-set", "-dac_override,-dac_read_search"]
            : [];
        var result = ExternalProgram.Run(CliTool.StartInfo(["inspect", name], wrapper));
        Assert.Equal(4, result.ExitCode);
        Assert.Contains("permission denied", result.StandardError, StringComparison.Ordinal);
        Assert.Contains("mode 0000", result.StandardError, StringComparison.Ordinal);
    }
}
