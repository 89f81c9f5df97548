using System.Text;

namespace UintrIpc.Bench.Reporting;

/// <summary>
/// Writes a run into the documentation: results.json to docs/results/&lt;mode&gt;.json, the plots
/// to docs/img/&lt;mode&gt;-*.png, and the report between the markers
/// <c>&lt;!-- BEGIN GENERATED mode --&gt;</c> and <c>&lt;!-- END GENERATED mode --&gt;</c> of the
/// Markdown file. Everything between the markers is replaced; the text around them is kept.
/// </summary>
internal static class DocsWriter
{
    public static string Begin(string section) => $"<!-- BEGIN GENERATED {section} (bench/UintrIpc.Bench --docs; do not edit) -->";

    public static string End(string section) => $"<!-- END GENERATED {section} -->";

    /// <summary>Replaces the section <paramref name="section"/> of <paramref name="file"/> with <paramref name="body"/> (appended when the file has no such section).</summary>
    public static void ReplaceSection(string file, string section, string body)
    {
        string text = File.Exists(file) ? File.ReadAllText(file) : string.Empty;
        string begin = Begin(section), end = End(section);
        int b = text.IndexOf(begin, StringComparison.Ordinal);
        int e = text.IndexOf(end, StringComparison.Ordinal);
        var sb = new StringBuilder();
        if (b >= 0 && e > b)
        {
            sb.Append(text, 0, b);
            sb.Append(begin).Append('\n').Append(body.TrimEnd()).Append('\n').Append(end);
            sb.Append(text, e + end.Length, text.Length - e - end.Length);
        }
        else
        {
            sb.Append(text.TrimEnd()).Append("\n\n").Append(begin).Append('\n').Append(body.TrimEnd()).Append('\n').Append(end).Append('\n');
        }

        File.WriteAllText(file, sb.ToString());
    }
}
