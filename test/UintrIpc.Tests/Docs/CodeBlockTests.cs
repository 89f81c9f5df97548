using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.Docs;

/// <summary>
/// Every ```csharp block of README.md, docs/ and the package readme, and every &lt;code&gt;
/// example in the XML docs of the library's public members, compiles as it stands (fragments
/// inside their declared context: see <see cref="CodeBlockParser"/>).
/// </summary>
public sealed class CodeBlockTests(ITestOutputHelper output)
{
    /// <summary>The Markdown files whose code blocks must compile, relative to the repository root.</summary>
    private static IEnumerable<string> DocumentationFiles(string root) =>
        new[] { "README.md", Path.Combine("lib", "UintrIpc", "PACKAGE.md") }
            .Concat(Directory.EnumerateFiles(Path.Combine(root, "docs"), "*.md", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(root, f)))
            .Order(StringComparer.Ordinal);

    /// <summary>The library's C# sources, relative to the repository root (not its build output).</summary>
    private static IEnumerable<string> LibrarySources(string root) =>
        Directory.EnumerateFiles(Path.Combine(root, "lib", "UintrIpc"), "*.cs", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(root, f))
            .Where(f => !f.Split(Path.DirectorySeparatorChar).Any(part => part is "obj" or "bin"))
            .Order(StringComparer.Ordinal);

    [Fact]
    public void Every_csharp_block_in_the_documentation_compiles()
    {
        string root = RepositoryFiles.Root;
        CompileAll(DocumentationFiles(root).Select(file => CodeBlockParser.Markdown(file, File.ReadAllText(Path.Combine(root, file)))), importedNamespaces: null, atLeast: 5);
    }

    [Fact]
    public void Every_code_example_in_the_XML_docs_of_public_members_compiles()
    {
        string root = RepositoryFiles.Root;
        var library = typeof(UintrIpc.Memory.SharedRegion).Assembly;
        CompileAll(
            LibrarySources(root).Select(file => CodeBlockParser.XmlDoc(file, File.ReadAllText(Path.Combine(root, file)), name => library.GetType(name)?.IsVisible == true)),
            CodeBlockCompiler.LibraryNamespaces,
            atLeast: 10);
    }

    /// <summary>Compiles every block of every file; fails listing each block that does not compile cleanly.</summary>
    private void CompileAll(IEnumerable<(List<CodeBlock> Blocks, Dictionary<string, (int Line, string Code)> Contexts)> files, IEnumerable<string>? importedNamespaces, int atLeast)
    {
        var failures = new List<string>();
        int compiled = 0;
        foreach (var (blocks, contexts) in files)
        {
            foreach (var block in blocks)
            {
                var diagnostics = CodeBlockCompiler.Compile(block, contexts, importedNamespaces);
                compiled++;
                output.WriteLine($"{block}: {(block.Context is null ? "program" : "fragment in " + block.Context)}, {(diagnostics.Count == 0 ? "compiles" : $"{diagnostics.Count} diagnostics")}");
                if (diagnostics.Count > 0)
                {
                    failures.Add($"{block}:\n  " + string.Join("\n  ", diagnostics));
                }
            }
        }

        Assert.True(compiled >= atLeast, $"only {compiled} csharp blocks found: is the extraction broken?");
        Assert.True(failures.Count == 0, $"{failures.Count} of {compiled} code blocks do not compile:\n" + string.Join('\n', failures));
    }

    [Fact]
    public void XML_doc_examples_of_public_members_are_found_decoded_and_reported_at_their_source_line()
    {
        const string Source = """
            namespace UintrIpc.Channels;

            /// <summary>A public type.</summary>
            /// <example>
            /// <!-- snippet-context writer
            /// using var channel = IpcChannel.CreateBounded<int>(16);
            /// -->
            /// <!-- snippet: fragment writer -->
            /// <code>
            /// IpcChannelWriter&lt;int&gt; writer = channel.Writer;
            /// </code>
            /// </example>
            public static class IpcChannel
            {
                /// <summary>A public member.</summary>
                /// <code>IpcChannel.NoSuchMethod();</code>
                public static void Create() { }

                /// <summary>A private member.</summary>
                /// <code>not C#</code>
                private static void Hidden() { }
            }

            /// <summary>An internal type.</summary>
            /// <code>
            /// a diagram
            /// </code>
            internal static class Layout { }
            """;
        var (blocks, contexts) = CodeBlockParser.XmlDoc("IpcChannel.cs", Source, name => name == "UintrIpc.Channels.IpcChannel");
        Assert.Equal(2, blocks.Count);
        Assert.Equal(("writer", 10, "IpcChannelWriter<int> writer = channel.Writer;"), (blocks[0].Context, blocks[0].Line, blocks[0].Code));
        Assert.Equal((null, 16, "IpcChannel.NoSuchMethod();"), (blocks[1].Context, blocks[1].Line, blocks[1].Code));
        Assert.Equal((6, "using var channel = IpcChannel.CreateBounded<int>(16);"), contexts["writer"]);

        Assert.Empty(CodeBlockCompiler.Compile(blocks[0], contexts, CodeBlockCompiler.LibraryNamespaces));
        string error = Assert.Single(CodeBlockCompiler.Compile(blocks[1], contexts, CodeBlockCompiler.LibraryNamespaces));
        Assert.StartsWith("IpcChannel.cs(16,", error, StringComparison.Ordinal);
        Assert.Contains("NoSuchMethod", error, StringComparison.Ordinal);
        Assert.Throws<FormatException>(() => CodeBlockParser.XmlDoc("x.cs", "/// <code>a\n/// b</code>\npublic class X { }\n", _ => true));
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
        var (blocks, contexts) = CodeBlockParser.Markdown("guide.md", Markdown);
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
        var (blocks, contexts) = CodeBlockParser.Markdown("a.md", "<!-- snippet: fragment missing -->\n```csharp\nvar x = 1;\n```\n");
        Assert.Throws<KeyNotFoundException>(() => CodeBlockCompiler.Compile(blocks[0], contexts));
        Assert.Throws<FormatException>(() => CodeBlockParser.Markdown("b.md", "<!-- snippet: fragment x -->\n```sh\nls\n```\n"));
        Assert.Throws<FormatException>(() => CodeBlockParser.Markdown("c.md", "<!-- snippet: whole -->\n```csharp\n```\n"));
    }
}
