using UintrIpc.Memory;
using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.Memory;

/// <summary>
/// An attacher must refuse a region whose header is wrong, naming the field, before it
/// computes any address from the header. Each case corrupts one field in the creator's
/// mapping (the same pages the attacher maps) and attaches again.
/// </summary>
public sealed unsafe class RegionHeaderValidationTests : IDisposable
{
    private static readonly TimeSpan s_shortTimeout = TimeSpan.FromMilliseconds(200);
    private readonly ShmNames _names = new();

    public void Dispose() => _names.Dispose();

    /// <summary>A corruption: what to write into the header, and the field the exception must name.</summary>
    private sealed record Corruption(string Field, string Found, Action<nint, long> Apply);

    private static readonly Dictionary<string, Corruption> s_corruptions = new()
    {
        ["wrong magic"] = new("magic", "0xdeadbeef", (b, _) => U32(b, RegionLayout.MagicOffset) = 0xDEADBEEF),
        ["wrong layout version"] = new("layout version", (RegionLayout.LayoutVersion + 1).ToString(), (b, _) => U16(b, RegionLayout.VersionOffset) = (ushort)(RegionLayout.LayoutVersion + 1)),
        ["wrong header size"] = new("header size", "512", (b, _) => U16(b, RegionLayout.HeaderSizeOffset) = 512),
        ["total size larger than the file"] = new("total size", "1048576", (b, _) => U64(b, RegionLayout.TotalSizeOffset) = 1 << 20),
        ["total size smaller than the file"] = new("total size", "1024", (b, _) => U64(b, RegionLayout.TotalSizeOffset) = 1024),
        ["part count above the maximum"] = new("part count", "17", (b, _) => U32(b, RegionLayout.PartCountOffset) = 17),
        ["part count huge"] = new("part count", "4294967295", (b, _) => U32(b, RegionLayout.PartCountOffset) = uint.MaxValue),
        ["part count beyond the written entries"] = new("part 2 offset", "0", (b, _) => U32(b, RegionLayout.PartCountOffset) = 3),
        ["epoch zero"] = new("epoch", "0", (b, _) => U64(b, RegionLayout.EpochOffset) = 0),
        ["part offset misaligned"] = new("part 1 offset", "1160", (b, _) => PartOffset(b, 1) += 8),
        ["part offset overlapping the previous part"] = new("part 1 offset", "1024", (b, _) => PartOffset(b, 1) = 1024),
        ["part offset inside the header"] = new("part 0 offset", "512", (b, _) => PartOffset(b, 0) = 512),
        ["part offset outside the region"] = new("part 1 offset", "8192", (b, size) => PartOffset(b, 1) = (ulong)size + 4096),
        ["part offset wrapping around"] = new("part 1 offset", "18446744073709551488", (b, _) => PartOffset(b, 1) = ulong.MaxValue - 127),
        ["part length outside the region"] = new("part 1 length", "4096", (b, _) => PartLength(b, 1) = 4096),
        ["part length huge"] = new("part 0 length", "18446744073709551615", (b, _) => PartLength(b, 0) = ulong.MaxValue),
    };

    public static TheoryData<string, bool> Cases()
    {
        var data = new TheoryData<string, bool>();
        foreach (string name in s_corruptions.Keys)
        {
            data.Add(name, false);
            data.Add(name, true);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void A_corrupt_header_field_is_refused_and_named(string corruption, bool named)
    {
        var c = s_corruptions[corruption];
        // Two parts: 1024..1124 and 1152..3152 in a 4096-byte region.
        PartSpec[] parts = [new(PartKind.User, 0, 100), new(PartKind.User, 1, 2000)];
        string? name = named ? _names.New("corrupt") : null;
        using var creator = name is null ? SharedRegion.CreateAnonymous(parts) : SharedRegion.CreateNamed(name, 0, parts);
        Assert.Equal(4096, creator.Size);
        Assert.Equal(1152, creator.Parts[1].Offset);

        c.Apply((nint)creator.BasePointer, creator.Size);

        var e = Assert.Throws<RegionFormatException>(() =>
        {
            using var attached = name is null ? SharedRegion.Attach(creator.FileHandle, s_shortTimeout) : SharedRegion.OpenNamed(name, s_shortTimeout);
        });
        Assert.Equal(c.Field, e.Field);
        Assert.Equal(c.Found, e.Found);
        Assert.False(string.IsNullOrEmpty(e.Expected));
        Assert.Contains(c.Field, e.Message, StringComparison.Ordinal);
        Assert.Contains(e.Expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_corruption_is_also_accepted_after_repair()
    {
        // Guards the cases above: the unmodified region attaches, so each failure comes from its corruption.
        PartSpec[] parts = [new(PartKind.User, 0, 100), new(PartKind.User, 1, 2000)];
        using var creator = SharedRegion.CreateAnonymous(parts);
        byte[] original = new ReadOnlySpan<byte>(creator.BasePointer, RegionLayout.HeaderSize).ToArray();
        foreach (var (name, c) in s_corruptions)
        {
            c.Apply((nint)creator.BasePointer, creator.Size);
            Assert.Throws<RegionFormatException>(() => SharedRegion.Attach(creator.FileHandle, s_shortTimeout).Dispose());
            original.CopyTo(new Span<byte>(creator.BasePointer, RegionLayout.HeaderSize));
            using var attached = SharedRegion.Attach(creator.FileHandle, s_shortTimeout);
            Assert.True(creator.Parts.SequenceEqual(attached.Parts), name);
        }
    }

    private static ref ushort U16(nint b, int offset) => ref *(ushort*)(b + offset);

    private static ref uint U32(nint b, int offset) => ref *(uint*)(b + offset);

    private static ref ulong U64(nint b, int offset) => ref *(ulong*)(b + offset);

    private static ref ulong PartOffset(nint b, int index) => ref U64(b, RegionLayout.PartsOffset + (index * RegionLayout.PartSize) + RegionLayout.PartOffsetOffset);

    private static ref ulong PartLength(nint b, int index) => ref U64(b, RegionLayout.PartsOffset + (index * RegionLayout.PartSize) + RegionLayout.PartLengthOffset);
}
