namespace UintrIpc.Tests.Docs;

/// <summary>
/// A C# example of the documentation, as <see cref="CodeBlockCompiler"/> compiles it: a
/// ```csharp block of a Markdown file or a <c>&lt;code&gt;</c> element of an XML doc comment
/// (the conventions: <see cref="CodeBlockParser"/>).
/// </summary>
/// <param name="File">The Markdown or C# file.</param>
/// <param name="Line">The 1-based line of the block's first code line.</param>
/// <param name="Code">The code, as a reader sees it (XML entities decoded).</param>
/// <param name="Context">The context name of a fragment, or null for a complete program.</param>
internal sealed record CodeBlock(string File, int Line, string Code, string? Context)
{
    /// <summary>Where the block is, for messages: README.md:123.</summary>
    public override string ToString() => $"{File}:{Line}";
}
