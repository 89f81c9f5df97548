using System.Globalization;
using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.Layout;

/// <summary>
/// Compiles test/native/layout_dump.c against interop/include/uintripc.h with gcc, runs it,
/// and compares what the C compiler computed (offsetof, sizeof, enum values) with the C#
/// constants. Independent of the shim's own table.
/// </summary>
[Collection(CrossProcessCollection.Name)]
public sealed class CompiledLayoutTests : IDisposable
{
    private readonly DirectoryInfo _temp = Directory.CreateTempSubdirectory("uintripc-layout-");

    public void Dispose() => _temp.Delete(recursive: true);

    [Fact]
    public void The_compiled_header_agrees_with_the_CSharp_constants()
    {
        var (ids, values) = DumpLayout();

        // Every id the mirror knows was printed with the same number, and the count agrees.
        foreach (var id in Enum.GetValues<LayoutId>())
        {
            Assert.True(ids.TryGetValue(id.ToString(), out int number), $"layout_dump.c does not print {id}; add it there.");
            Assert.Equal((int)id, number);
        }

        Assert.Equal(Enum.GetValues<LayoutId>().Length, ids.Count);

        // Every pairing of LayoutTable holds for the compiled header.
        var wrong = new List<string>();
        foreach (var entry in LayoutTable.Entries)
        {
            if (!values.TryGetValue(entry.CName, out long c))
            {
                wrong.Add($"{entry.CName}: not printed by layout_dump.c");
            }
            else if (c != entry.Value)
            {
                wrong.Add($"{entry.CName} = {c} in C, but {entry.CSharp} = {entry.Value}");
            }
        }

        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
        // Nothing printed goes unchecked.
        Assert.Empty(values.Keys.Except(LayoutTable.Entries.Select(e => e.CName)));
    }

    private (Dictionary<string, int> Ids, Dictionary<string, long> Values) DumpLayout()
    {
        string? gcc = ExternalProgram.FindOnPath("gcc");
        RequiredTools.SkipWhenMissing(gcc is null, "gcc is not installed (apt-get install gcc); the compiled-layout check needs a C compiler.");

        string exe = Path.Combine(_temp.FullName, "layout_dump");
        var compile = ExternalProgram.Run(gcc!, "-std=c11", "-Wall", "-Wextra", "-Werror", "-I", LayoutHeader.NativeDirectory,
            "-o", exe, Path.Combine(LayoutHeader.NativeDirectory, "layout_dump.c"));
        Assert.True(compile.ExitCode == 0, $"gcc failed: {compile}");

        var run = ExternalProgram.Run(exe);
        Assert.True(run.ExitCode == 0, $"layout_dump failed: {run}");

        var ids = new Dictionary<string, int>();
        var values = new Dictionary<string, long>();
        foreach (string line in run.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            string[] f = line.Split(' ');
            Assert.True(f.Length == 3, $"unexpected line '{line}'");
            if (f[0] == "id")
            {
                ids.Add(f[1], int.Parse(f[2], CultureInfo.InvariantCulture));
            }
            else
            {
                Assert.Equal("value", f[0]);
                values.Add(f[1], long.Parse(f[2], CultureInfo.InvariantCulture));
            }
        }

        return (ids, values);
    }
}
