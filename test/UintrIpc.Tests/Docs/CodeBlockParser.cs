using System.Text.RegularExpressions;

namespace UintrIpc.Tests.Docs;

/// <summary>
/// A ```csharp block of a Markdown file, and how it is compiled. The convention, for anyone
/// writing documentation:
/// <list type="bullet">
/// <item>A block with no marker is a complete program (top-level statements and types), compiled as it stands.</item>
/// <item>A fragment is preceded (on the line before its fence) by <c>&lt;!-- snippet: fragment NAME --&gt;</c>
/// and compiled inside the context NAME, defined anywhere in the same file by an HTML comment
/// <c>&lt;!-- snippet-context NAME</c> ... <c>--&gt;</c> whose lines are C#: using directives, the
/// statements that declare what the fragment uses (run before it), local functions and types.</item>
/// </list>
/// Readers do not see the comments (Markdown hides them); the compiler sees fragment and context together.
/// </summary>
/// <param name="File">The Markdown file.</param>
/// <param name="Line">The 1-based line of the block's first code line.</param>
/// <param name="Code">The code between the fences.</param>
/// <param name="Context">The context name of a fragment, or null for a complete program.</param>
internal sealed partial record MarkdownCodeBlock(string File, int Line, string Code, string? Context)
{
    /// <summary>Where the block is, for messages: README.md:123.</summary>
    public override string ToString() => $"{File}:{Line}";

    /// <summary>The csharp blocks and the contexts defined in <paramref name="markdown"/>.</summary>
    /// <exception cref="FormatException">An unclosed fence or context, or a marker the convention does not know.</exception>
    internal static (List<MarkdownCodeBlock> Blocks, Dictionary<string, (int Line, string Code)> Contexts) Parse(string file, string markdown)
    {
        string[] lines = markdown.Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
        var blocks = new List<MarkdownCodeBlock>();
        var contexts = new Dictionary<string, (int, string)>(StringComparer.Ordinal);
        string? pendingMarker = null;
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i];
            if (ContextStart().Match(line) is { Success: true } context)
            {
                int end = Array.FindIndex(lines, i + 1, l => l.TrimEnd() == "-->");
                if (end < 0)
                {
                    throw new FormatException($"{file}:{i + 1}: snippet-context '{context.Groups[1].Value}' is not closed by a line '-->'.");
                }

                contexts.Add(context.Groups[1].Value, (i + 2, string.Join('\n', lines[(i + 1)..end])));
                i = end;
                continue;
            }

            if (line.TrimStart().StartsWith("<!-- snippet:", StringComparison.Ordinal))
            {
                pendingMarker = Marker().Match(line) is { Success: true } m ? m.Groups[1].Value
                    : throw new FormatException($"{file}:{i + 1}: unknown snippet marker '{line.Trim()}' (expected <!-- snippet: fragment NAME -->).");
                continue;
            }

            if (Fence().Match(line) is { Success: true } fence)
            {
                string fenceText = fence.Groups[1].Value;
                int end = Array.FindIndex(lines, i + 1, l => l.TrimStart().StartsWith(fenceText, StringComparison.Ordinal) && l.Trim().Trim('`').Length == 0);
                if (end < 0)
                {
                    throw new FormatException($"{file}:{i + 1}: code block not closed.");
                }

                string language = fence.Groups[2].Value;
                bool csharp = language is "csharp" or "cs" or "c#";
                if (pendingMarker is not null && !csharp)
                {
                    throw new FormatException($"{file}:{i + 1}: a snippet marker stands before a {language} block; markers are for csharp blocks.");
                }

                if (csharp)
                {
                    blocks.Add(new MarkdownCodeBlock(file, i + 2, string.Join('\n', lines[(i + 1)..end]), pendingMarker));
                }

                pendingMarker = null;
                i = end;
                continue;
            }

            if (line.Trim().Length > 0)
            {
                pendingMarker = null; // a marker applies to the block right after it
            }
        }

        return (blocks, contexts);
    }

    [GeneratedRegex(@"^\s*(`{3,})\s*([^\s`]*)")]
    private static partial Regex Fence();

    [GeneratedRegex(@"^\s*<!-- snippet: fragment ([\w.-]+) -->\s*$")]
    private static partial Regex Marker();

    [GeneratedRegex(@"^\s*<!-- snippet-context ([\w.-]+)\s*$")]
    private static partial Regex ContextStart();
}
