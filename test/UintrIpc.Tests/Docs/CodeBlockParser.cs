using System.Net;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace UintrIpc.Tests.Docs;

/// <summary>
/// Finds the C# examples of the documentation. One convention for Markdown files and XML doc
/// comments, for anyone writing documentation:
/// <list type="bullet">
/// <item>A block with no marker is a complete program (top-level statements and types), compiled as it stands.</item>
/// <item>A fragment is preceded (on the line before its fence) by <c>&lt;!-- snippet: fragment NAME --&gt;</c>
/// and compiled inside the context NAME, defined anywhere in the same file by an HTML/XML comment
/// <c>&lt;!-- snippet-context NAME</c> ... <c>--&gt;</c> whose lines are C#: using directives, the
/// statements that declare what the fragment uses (run before it), local functions and types.</item>
/// </list>
/// Markdown: every ```csharp block. C# sources: every <c>&lt;code&gt;</c> element (on lines of
/// its own, or one line <c>&lt;code&gt;...&lt;/code&gt;</c>) in the doc comment of a public member,
/// which is what a user reads in the IDE's tooltip; contexts may sit in any doc comment of the
/// file (a comment is not shown; it must not contain "--"). Readers do not see the comments;
/// the compiler sees fragment and context together.
/// </summary>
internal static partial class CodeBlockParser
{
    /// <summary>The csharp blocks and the contexts defined in <paramref name="markdown"/>.</summary>
    /// <exception cref="FormatException">An unclosed fence or context, or a marker the convention does not know.</exception>
    internal static (List<CodeBlock> Blocks, Dictionary<string, (int Line, string Code)> Contexts) Markdown(string file, string markdown)
    {
        var result = (new List<CodeBlock>(), new Dictionary<string, (int, string)>(StringComparer.Ordinal));
        Parse(file, markdown.Split('\n').Select((l, i) => (i + 1, l.TrimEnd('\r'))).ToArray(), xmlDoc: false, keepBlocks: true, result.Item1, result.Item2);
        return result;
    }

    /// <summary>The <c>&lt;code&gt;</c> examples of the public members documented in the C# <paramref name="source"/>, and the contexts defined in its doc comments.</summary>
    /// <param name="file">The source file, for messages.</param>
    /// <param name="source">Its text.</param>
    /// <param name="isPublicType">Whether a type, by its metadata name (Namespace.Outer+Inner`1), is visible outside the library.</param>
    /// <exception cref="FormatException">An unclosed code element or context, or a marker the convention does not know.</exception>
    internal static (List<CodeBlock> Blocks, Dictionary<string, (int Line, string Code)> Contexts) XmlDoc(string file, string source, Func<string, bool> isPublicType)
    {
        var result = (new List<CodeBlock>(), new Dictionary<string, (int, string)>(StringComparer.Ordinal));
        var tree = CSharpSyntaxTree.ParseText(source, new CSharpParseOptions(LanguageVersion.Latest, DocumentationMode.Parse), file);
        foreach (var comment in tree.GetRoot().DescendantTrivia().Where(t => t.IsKind(SyntaxKind.SingleLineDocumentationCommentTrivia)))
        {
            int first = tree.GetLineSpan(comment.FullSpan).StartLinePosition.Line + 1;
            var lines = comment.ToFullString().Split('\n').Select((l, i) => (first + i, StripSlashes(l.TrimEnd('\r')))).ToArray();
            var member = comment.Token.Parent?.AncestorsAndSelf().OfType<MemberDeclarationSyntax>().FirstOrDefault();
            Parse(file, lines, xmlDoc: true, member is not null && IsPublic(member, isPublicType), result.Item1, result.Item2);
        }

        return result;
    }

    /// <summary>A doc comment line as the reader sees it: without its indentation, "///" and the one space after it.</summary>
    private static string StripSlashes(string line)
    {
        string text = line.TrimStart();
        text = text.StartsWith("///", StringComparison.Ordinal) ? text[3..] : text;
        return text.StartsWith(' ') ? text[1..] : text;
    }

    /// <summary>Whether the declaration is part of the library's public surface: its type is visible and the member is public (or protected) in it.</summary>
    private static bool IsPublic(MemberDeclarationSyntax member, Func<string, bool> isPublicType)
    {
        var types = member.AncestorsAndSelf().Where(n => n is BaseTypeDeclarationSyntax or DelegateDeclarationSyntax).Reverse().ToList();
        if (types.Count == 0)
        {
            return false;
        }

        string ns = string.Join('.', member.Ancestors().OfType<BaseNamespaceDeclarationSyntax>().Reverse().Select(n => n.Name.ToString()));
        string name = string.Join('+', types.Select(MetadataName));
        if (!isPublicType(ns.Length == 0 ? name : ns + "." + name))
        {
            return false;
        }

        if (member is BaseTypeDeclarationSyntax or DelegateDeclarationSyntax or EnumMemberDeclarationSyntax)
        {
            return true;
        }

        // Interface members are public unless they say otherwise.
        return member.Modifiers.Any(m => m.IsKind(SyntaxKind.PublicKeyword))
            || (member.Modifiers.Any(m => m.IsKind(SyntaxKind.ProtectedKeyword)) && !member.Modifiers.Any(m => m.IsKind(SyntaxKind.PrivateKeyword)))
            || (member.Parent is InterfaceDeclarationSyntax && !member.Modifiers.Any(m => m.Kind() is SyntaxKind.PrivateKeyword or SyntaxKind.InternalKeyword or SyntaxKind.ProtectedKeyword));
    }

    private static string MetadataName(SyntaxNode type) => type switch
    {
        TypeDeclarationSyntax t => t.Identifier.Text + (t.TypeParameterList is { } p ? "`" + p.Parameters.Count : string.Empty),
        DelegateDeclarationSyntax d => d.Identifier.Text + (d.TypeParameterList is { } p ? "`" + p.Parameters.Count : string.Empty),
        BaseTypeDeclarationSyntax b => b.Identifier.Text,
        _ => throw new ArgumentException($"not a type declaration: {type.Kind()}", nameof(type)),
    };

    /// <summary>
    /// The one parser of both syntaxes: contexts, markers and code blocks in numbered lines.
    /// Blocks are kept only when <paramref name="keepBlocks"/> (a doc comment of a public member); contexts always.
    /// </summary>
    private static void Parse(string file, (int Number, string Text)[] lines, bool xmlDoc, bool keepBlocks, List<CodeBlock> blocks, Dictionary<string, (int, string)> contexts)
    {
        string? pendingMarker = null;
        for (int i = 0; i < lines.Length; i++)
        {
            var (number, line) = lines[i];
            if (ContextStart().Match(line) is { Success: true } context)
            {
                int end = Array.FindIndex(lines, i + 1, l => l.Text.TrimEnd() == "-->");
                if (end < 0)
                {
                    throw new FormatException($"{file}:{number}: snippet-context '{context.Groups[1].Value}' is not closed by a line '-->'.");
                }

                contexts.Add(context.Groups[1].Value, (number + 1, string.Join('\n', lines[(i + 1)..end].Select(l => l.Text))));
                i = end;
                continue;
            }

            if (line.TrimStart().StartsWith("<!-- snippet:", StringComparison.Ordinal))
            {
                pendingMarker = Marker().Match(line) is { Success: true } m ? m.Groups[1].Value
                    : throw new FormatException($"{file}:{number}: unknown snippet marker '{line.Trim()}' (expected <!-- snippet: fragment NAME -->).");
                continue;
            }

            var block = xmlDoc ? CodeElement(file, lines, ref i) : FencedBlock(file, lines, ref i, pendingMarker);
            if (block is { } found)
            {
                if (keepBlocks && found.CSharp)
                {
                    blocks.Add(new CodeBlock(file, found.Line, found.Code, pendingMarker));
                }

                pendingMarker = null;
                continue;
            }

            if (line.Trim().Length > 0)
            {
                pendingMarker = null; // a marker applies to the block right after it
            }
        }
    }

    /// <summary>A ```language block starting at line <paramref name="i"/> (which then moves to its closing fence), or null.</summary>
    private static (int Line, string Code, bool CSharp)? FencedBlock(string file, (int Number, string Text)[] lines, ref int i, string? pendingMarker)
    {
        if (Fence().Match(lines[i].Text) is not { Success: true } fence)
        {
            return null;
        }

        string fenceText = fence.Groups[1].Value;
        int end = Array.FindIndex(lines, i + 1, l => l.Text.TrimStart().StartsWith(fenceText, StringComparison.Ordinal) && l.Text.Trim().Trim('`').Length == 0);
        if (end < 0)
        {
            throw new FormatException($"{file}:{lines[i].Number}: code block not closed.");
        }

        string language = fence.Groups[2].Value;
        bool csharp = language is "csharp" or "cs" or "c#";
        if (pendingMarker is not null && !csharp)
        {
            throw new FormatException($"{file}:{lines[i].Number}: a snippet marker stands before a {language} block; markers are for csharp blocks.");
        }

        var found = (lines[i].Number + 1, string.Join('\n', lines[(i + 1)..end].Select(l => l.Text)), csharp);
        i = end;
        return found;
    }

    /// <summary>A &lt;code&gt; element starting at line <paramref name="i"/> (which then moves to its end), or null; its text is XML, decoded here.</summary>
    private static (int Line, string Code, bool CSharp)? CodeElement(string file, (int Number, string Text)[] lines, ref int i)
    {
        string line = lines[i].Text.Trim();
        if (!line.StartsWith("<code>", StringComparison.Ordinal))
        {
            return null;
        }

        if (line.EndsWith("</code>", StringComparison.Ordinal))
        {
            return (lines[i].Number, WebUtility.HtmlDecode(line["<code>".Length..^"</code>".Length]), true);
        }

        int end = Array.FindIndex(lines, i + 1, l => l.Text.Trim() == "</code>");
        if (line != "<code>" || end < 0)
        {
            throw new FormatException($"{file}:{lines[i].Number}: a <code> element stands on one line, or its <code> and </code> on lines of their own.");
        }

        var found = (lines[i].Number + 1, WebUtility.HtmlDecode(string.Join('\n', lines[(i + 1)..end].Select(l => l.Text))), true);
        i = end;
        return found;
    }

    [GeneratedRegex(@"^\s*(`{3,})\s*([^\s`]*)")]
    private static partial Regex Fence();

    [GeneratedRegex(@"^\s*<!-- snippet: fragment ([\w.-]+) -->\s*$")]
    private static partial Regex Marker();

    [GeneratedRegex(@"^\s*<!-- snippet-context ([\w.-]+)\s*$")]
    private static partial Regex ContextStart();
}
