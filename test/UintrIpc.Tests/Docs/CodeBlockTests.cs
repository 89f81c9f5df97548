using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.Docs;

/// <summary>
/// Every ```csharp block of README.md, docs/ and the package readme compiles as it stands
/// (fragments inside their declared context: see <see cref="MarkdownCodeBlock"/>).
/// </summary>
public sealed class CodeBlockTests(ITestOutputHelper output)
{
    /// <summary>The Markdown files whose code blocks must compile, relative to the repository root.</summary>
    private static IEnumerable<string> DocumentationFiles(string root) =>
        new[] { "README.md", Path.Combine("lib", "UintrIpc", "PACKAGE.md") }
            .Concat(Directory.EnumerateFiles(Path.Combine(root, "docs"), "*.md", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(root, f)))
            .Order(StringComparer.Ordinal);

    [Fact]
    public void Every_csharp_block_in_the_documentation_compiles()
    {
        string root = RepositoryFiles.Root;
        var failures = new List<string>();
        int compiled = 0;
        foreach (string file in DocumentationFiles(root))
        {
            var (blocks, contexts) = MarkdownCodeBlock.Parse(file, File.ReadAllText(Path.Combine(root, file)));
            foreach (var block in blocks)
            {
                var diagnostics = CodeBlockCompiler.Compile(block, contexts);
                compiled++;
                output.WriteLine($"{block}: {(block.Context is null ? "program" : "fragment in " + block.Context)}, {(diagnostics.Count == 0 ? "compiles" : $"{diagnostics.Count} diagnostics")}");
                if (diagnostics.Count > 0)
                {
                    failures.Add($"{block}:\n  " + string.Join("\n  ", diagnostics));
                }
            }
        }

        Assert.True(compiled >= 5, $"only {compiled} csharp blocks found: is the extraction broken?");
        Assert.True(failures.Count == 0, $"{failures.Count} of {compiled} code blocks do not compile:\n" + string.Join('\n', failures));
    }

    [Fact]
    public void A_block_that_does_not_compile_is_reported_at_its_Markdown_line()
    {
        const string Markdown = """
            # Title

            <!-- snippet-context writer
            using UintrIpc.Channels;
            using var channel = IpcChannel.CreateBounded<int>(16);
            static void Use(IpcChannelWriter<int> writer) { }
            -->

            <!-- snippet: fragment writer -->
            ```csharp
            Use(channel.Writer);
            ```

            ```csharp
            using UintrIpc.Channels;

            var channel = IpcChannel.NoSuchMethod<int>();
            ```
            """;
        var (blocks, contexts) = MarkdownCodeBlock.Parse("guide.md", Markdown);
        Assert.Equal(2, blocks.Count);
        Assert.Equal(("writer", 11), (blocks[0].Context, blocks[0].Line));

        Assert.Empty(CodeBlockCompiler.Compile(blocks[0], contexts));
        var errors = CodeBlockCompiler.Compile(blocks[1], contexts);
        string error = Assert.Single(errors);
        Assert.StartsWith("guide.md(17,", error, StringComparison.Ordinal);
        Assert.Contains("NoSuchMethod", error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_fragment_without_its_context_or_a_misplaced_marker_is_an_error()
    {
        var (blocks, contexts) = MarkdownCodeBlock.Parse("a.md", "<!-- snippet: fragment missing -->\n```csharp\nvar x = 1;\n```\n");
        Assert.Throws<KeyNotFoundException>(() => CodeBlockCompiler.Compile(blocks[0], contexts));
        Assert.Throws<FormatException>(() => MarkdownCodeBlock.Parse("b.md", "<!-- snippet: fragment x -->\n```sh\nls\n```\n"));
        Assert.Throws<FormatException>(() => MarkdownCodeBlock.Parse("c.md", "<!-- snippet: whole -->\n```csharp\n```\n"));
    }
}
