using System.Text.RegularExpressions;

namespace UintrIpc.Tests.Layout;

/// <summary>
/// interop/include/uintripc.h and the layout dump program as copied next to the test
/// assembly (see UintrIpc.Tests.csproj), and what the tests read from the header text.
/// </summary>
internal static partial class LayoutHeader
{
    /// <summary>The folder holding the copied C sources.</summary>
    internal static string NativeDirectory => Path.Combine(AppContext.BaseDirectory, "native");

    /// <summary>Path of the copied uintripc.h.</summary>
    internal static string HeaderPath => Path.Combine(NativeDirectory, "uintripc.h");

    /// <summary>The member names of enum uipc_layout_id, in declaration order, as the header spells them.</summary>
    internal static IReadOnlyList<string> LayoutIdNames()
    {
        string text = File.ReadAllText(HeaderPath);
        var match = LayoutIdEnum().Match(text);
        Assert.True(match.Success, $"enum uipc_layout_id not found in {HeaderPath}");
        string body = Comment().Replace(match.Groups["body"].Value, " ");
        var names = new List<string>();
        foreach (string member in body.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            // "UIPC_L_MAGIC = 0" -> "UIPC_L_MAGIC". Explicit values other than the first would break the
            // "ids are stable; add at the end" rule the mirror relies on.
            string[] parts = member.Split('=', StringSplitOptions.TrimEntries);
            Assert.True(parts.Length == 1 || (names.Count == 0 && parts[1] == "0"), $"unexpected enum member '{member}' in uipc_layout_id");
            names.Add(parts[0]);
        }

        return names;
    }

    [GeneratedRegex(@"enum\s+uipc_layout_id\s*\{(?<body>[^}]*)\}")]
    private static partial Regex LayoutIdEnum();

    [GeneratedRegex(@"/\*.*?\*/|//[^\n]*", RegexOptions.Singleline)]
    private static partial Regex Comment();
}
