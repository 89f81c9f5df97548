using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace UintrIpc.Tests.Docs;

/// <summary>
/// Compiles documentation examples in process with Roslyn, as a reader's console project would:
/// .NET 10 with implicit usings, nullable enabled, unsafe allowed, referencing UintrIpc. A
/// fragment is compiled inside its context (see <see cref="CodeBlockParser"/>); #line
/// directives make every diagnostic point at the line of the Markdown or C# file.
/// </summary>
internal static class CodeBlockCompiler
{
    /// <summary>The implicit usings of a console project (Microsoft.NET.Sdk).</summary>
    private static readonly string[] s_implicitUsings =
        ["System", "System.Collections.Generic", "System.IO", "System.Linq", "System.Net.Http", "System.Threading", "System.Threading.Tasks"];

    private static readonly CSharpParseOptions s_parse = new(LanguageVersion.Latest);

    private static readonly Lazy<MetadataReference[]> s_references = new(() =>
    {
        // The runtime's own assemblies (what the test host runs on), and UintrIpc with its dependencies from this folder.
        var paths = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Where(p => p.StartsWith(Path.GetDirectoryName(typeof(object).Assembly.Location)!, StringComparison.Ordinal))
            .Concat(new[] { typeof(UintrIpc.Memory.SharedRegion), typeof(Tmds.Linux.LibC) }.Select(t => t.Assembly.Location))
            .Append(Path.Combine(AppContext.BaseDirectory, "CommunityToolkit.HighPerformance.dll"));
        return [.. paths.Distinct().Select(p => MetadataReference.CreateFromFile(p))];
    });

    /// <summary>
    /// The library's public namespaces: an XML-doc example is read in the IDE where its type is
    /// already in use, so they are imported for it (a Markdown block writes its own usings).
    /// </summary>
    internal static IReadOnlyList<string> LibraryNamespaces { get; } =
        [.. typeof(UintrIpc.Memory.SharedRegion).Assembly.GetExportedTypes().Select(t => t.Namespace!).Distinct().Order(StringComparer.Ordinal)];

    /// <summary>Compiles one block; returns its errors and warnings (empty when it compiles cleanly).</summary>
    /// <param name="block">The example.</param>
    /// <param name="contexts">The contexts of its file.</param>
    /// <param name="importedNamespaces">Namespaces imported besides a console project's implicit usings (<see cref="LibraryNamespaces"/> for XML-doc examples).</param>
    /// <exception cref="KeyNotFoundException">A fragment names a context that <paramref name="contexts"/> does not define.</exception>
    internal static IReadOnlyList<string> Compile(CodeBlock block, IReadOnlyDictionary<string, (int Line, string Code)> contexts, IEnumerable<string>? importedNamespaces = null)
    {
        var trees = new List<SyntaxTree>();
        var globalUsings = new StringBuilder();
        foreach (string ns in s_implicitUsings.Concat(importedNamespaces ?? []))
        {
            globalUsings.Append("global using global::").Append(ns).AppendLine(";");
        }

        string contextStatements = string.Empty;
        if (block.Context is not null)
        {
            if (!contexts.TryGetValue(block.Context, out var context))
            {
                throw new KeyNotFoundException($"{block}: the fragment's context '{block.Context}' is not defined in {block.File} (<!-- snippet-context {block.Context} ... -->).");
            }

            // The context's usings apply to every file; its statements run before the fragment; its types get a file of their own.
            var root = (CompilationUnitSyntax)CSharpSyntaxTree.ParseText(context.Code, s_parse).GetRoot();
            foreach (var u in root.Usings)
            {
                globalUsings.Append("global ").AppendLine(u.ToString());
            }

            var statements = root.Members.OfType<GlobalStatementSyntax>().ToList();
            var types = root.Members.Where(m => m is not GlobalStatementSyntax).ToList();
            contextStatements = $"#line {context.Line + LineOf(context.Code, statements.FirstOrDefault())} \"{block.File} (context {block.Context})\"\n"
                + string.Join('\n', statements.Select(s => s.ToFullString())) + "\n";
            if (types.Count > 0)
            {
                trees.Add(Parse($"#line {context.Line + LineOf(context.Code, types[0])} \"{block.File} (context {block.Context})\"\n" + string.Join('\n', types.Select(t => t.ToFullString())), "context-types.cs"));
            }
        }

        trees.Add(Parse(globalUsings.ToString(), "global-usings.cs"));

        // The block's own using directives must come first in its file, before the context's statements.
        var blockRoot = (CompilationUnitSyntax)CSharpSyntaxTree.ParseText(block.Code, s_parse).GetRoot();
        int bodyStart = blockRoot.Usings.Count > 0 ? blockRoot.Usings.Last().FullSpan.End : 0;
        string program = $"#line {block.Line} \"{block.File}\"\n" + block.Code[..bodyStart] + "\n"
            + contextStatements
            + $"#line {block.Line + LineOf(block.Code, bodyStart)} \"{block.File}\"\n" + block.Code[bodyStart..];
        trees.Add(Parse(program, "block.cs"));

        var compilation = CSharpCompilation.Create(
            "CodeBlock",
            trees,
            s_references.Value,
            new CSharpCompilationOptions(OutputKind.ConsoleApplication, allowUnsafe: true, nullableContextOptions: NullableContextOptions.Enable));
        return [.. compilation.GetDiagnostics()
            .Where(d => d.Severity >= DiagnosticSeverity.Warning)
            .Select(d => d.ToString())];
    }

    private static SyntaxTree Parse(string text, string path) => CSharpSyntaxTree.ParseText(text, s_parse, path, Encoding.UTF8);

    /// <summary>0-based line of a position in <paramref name="code"/>.</summary>
    private static int LineOf(string code, int position) => code.AsSpan(0, position).Count('\n');

    private static int LineOf(string code, SyntaxNode? node) => node is null ? 0 : LineOf(code, node.SpanStart);
}
