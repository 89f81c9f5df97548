using System.Globalization;
using UintrIpc.Memory;

namespace UintrIpc.TestPeer.Commands;

/// <summary>Child-process side of the shared-region tests (test/UintrIpc.Tests/Memory).</summary>
internal static unsafe class RegionCommands
{
    /// <summary>`region-fill-named name tag seed`: opens a named region and fills the user part with the pattern.</summary>
    [PeerCommand("region-fill-named")]
    public static int FillNamed(string[] args)
    {
        using var region = SharedRegion.OpenNamed(args[0], TimeSpan.FromSeconds(10));
        return Fill(region, args[1], args[2]);
    }

    /// <summary>`region-fill-fd fd tag seed`: attaches a region from an inherited descriptor and fills the user part.</summary>
    [PeerCommand("region-fill-fd")]
    public static int FillFd(string[] args)
    {
        using var region = SharedRegion.Attach(int.Parse(args[0], CultureInfo.InvariantCulture), TimeSpan.FromSeconds(10));
        return Fill(region, args[1], args[2]);
    }

    /// <summary>`region-create-and-hang name`: creates a named region, says so, and waits to be killed.</summary>
    [PeerCommand("region-create-and-hang")]
    public static int CreateAndHang(string[] args)
    {
        using var region = SharedRegion.CreateNamed(args[0], 0, new PartSpec(PartKind.User, 0, 4096));
        Console.WriteLine("created");
        // Bounded, like every wait: the parent kills us long before this ends.
        Thread.Sleep(TimeSpan.FromMinutes(2));
        return 3;
    }

    private static int Fill(SharedRegion region, string tag, string seed)
    {
        var part = region.FindPart(PartKind.User, uint.Parse(tag, CultureInfo.InvariantCulture));
        // Plain stores: the parent reads them after our exit, which orders them (waitpid).
        RegionPattern.Fill(new Span<byte>(region.PartPointer(part), checked((int)part.Length)), int.Parse(seed, CultureInfo.InvariantCulture));
        Console.WriteLine($"filled {part.Length} bytes, creator {region.CreatorPid}, epoch {region.Epoch:x16}");
        return 0;
    }
}
