using System.Reflection;
using System.Text.RegularExpressions;
using UintrIpc.Interop;
using UintrIpc.Memory;
using UintrIpc.Rings;
using UintrIpc.Signaling;

namespace UintrIpc.Tests.Layout;

/// <summary>
/// The C# layout constants equal the shim's (UintrIpc_LayoutValue, compiled from the header),
/// and nothing can be added on one side and forgotten on the other: the id mirror equals the
/// header's enum, every id has a C# counterpart, and every C# layout constant is checked.
/// </summary>
public sealed class ShimLayoutTests
{
    public static TheoryData<LayoutId> Ids() => [.. Enum.GetValues<LayoutId>().Where(id => id != LayoutId.UIPC_L_COUNT)];

    [Fact]
    public void The_id_mirror_equals_the_header_enum()
    {
        var header = LayoutHeader.LayoutIdNames();
        var mirror = Enum.GetValues<LayoutId>().OrderBy(id => (int)id).Select(id => id.ToString()).ToList();
        Assert.Equal(header, mirror);
        // Positions are the numeric ids: no gaps, no explicit values in the mirror either.
        Assert.Equal(Enumerable.Range(0, mirror.Count), Enum.GetValues<LayoutId>().Select(id => (int)id).Order());
        Assert.Equal("UIPC_L_COUNT", mirror[^1]);
    }

    [Theory]
    [MemberData(nameof(Ids))]
    public void Shim_value_equals_the_CSharp_constant(LayoutId id)
    {
        var entry = LayoutTable.Of(id);
        long shim = Shim.LayoutValue((int)id);
        Assert.True(entry.Value == shim, $"{id}: shim says {shim}, C# {entry.CSharp} is {entry.Value}");
    }

    [Fact]
    public void Shim_knows_every_id_and_says_unknown_past_the_end()
    {
        // UIPC_LAYOUT_UNKNOWN (INT64_MIN) means "unknown id": no real constant has that value.
        foreach (var id in Enum.GetValues<LayoutId>().Where(id => id is not LayoutId.UIPC_L_COUNT))
        {
            Assert.True(Shim.LayoutValue((int)id) != Shim.LayoutUnknown, $"the shim does not know {id} (interop/src/layout.c lacks a case)");
        }

        Assert.Equal(Shim.LayoutUnknown, Shim.LayoutValue((int)LayoutId.UIPC_L_COUNT));
        Assert.Equal(Shim.LayoutUnknown, Shim.LayoutValue((int)LayoutId.UIPC_L_COUNT + 1));
        Assert.Equal(Shim.LayoutUnknown, Shim.LayoutValue(-1));
        Assert.Equal(Shim.LayoutUnknown, Shim.LayoutValue(int.MaxValue));
    }

    [Fact]
    public void Every_CSharp_layout_constant_has_a_C_counterpart()
    {
        var constants = new[] { typeof(RegionLayout), typeof(RingLayout), typeof(WaitBlockLayout) }
            .SelectMany(t => t.GetFields(BindingFlags.Public | BindingFlags.Static).Where(f => f.IsLiteral).Select(f => $"{t.Name}.{f.Name}"))
            .Concat(Enum.GetNames<PartKind>().Select(n => $"{nameof(PartKind)}.{n}"))
            // Initializing is the all-zero state before publication; the header names it only in prose.
            .Concat(Enum.GetNames<RegionState>().Where(n => n != nameof(RegionState.Initializing)).Select(n => $"{nameof(RegionState)}.{n}"))
            .ToList();
        Assert.True(constants.Count > 40, "reflection found too few constants; did the layout classes move?");

        var missing = constants.Where(c => !LayoutTable.Entries.Any(e => Regex.IsMatch(e.CSharp, $@"\b{Regex.Escape(c)}\b"))).ToList();
        Assert.True(missing.Count == 0, "C# layout constants without a C counterpart in LayoutTable: " + string.Join(", ", missing));
    }

    [Fact]
    public void Every_layout_id_has_exactly_one_CSharp_counterpart()
    {
        foreach (var id in Enum.GetValues<LayoutId>().Where(id => id != LayoutId.UIPC_L_COUNT))
        {
            _ = LayoutTable.Of(id);
        }

        // And no entry names an id that does not exist.
        var names = Enum.GetNames<LayoutId>().ToHashSet();
        Assert.All(LayoutTable.Entries.Where(e => e.CName.StartsWith("UIPC_L_", StringComparison.Ordinal)), e => Assert.Contains(e.CName, names));
    }
}
