using System.Globalization;
using System.Text.RegularExpressions;
using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.Docs;

/// <summary>
/// The lost-wake-up table of docs/user-interrupts.md quotes a lab run whose output is committed
/// in docs/user-interrupts-data/lab-lost-wakeup.txt: every figure of the table is the one that
/// file holds (rounded as the table shows it), so the table cannot drift from its source.
/// </summary>
public sealed partial class LabOutputDocsTests
{
    private static readonly CultureInfo s_inv = CultureInfo.InvariantCulture;

    [Fact]
    public void The_lost_wakeup_table_is_the_committed_lab_output()
    {
        string lab = File.ReadAllText(RepositoryFiles.Path("docs", "user-interrupts-data", "lab-lost-wakeup.txt"));
        string page = File.ReadAllText(RepositoryFiles.Path("docs", "user-interrupts.md"));
        var after = Run(lab, "after");
        var before = Run(lab, "before");
        string[] rows =
        [
            $"| interrupts lost in the window (late wake-ups) | {before.Late} of {before.Rounds} | {after.Late} of {after.Rounds} |",
            $"| worst cost a lost interrupt paid (shim's count) | {before.WorstSlice} ms (the whole wait) | {after.WorstSlice} ms (the longest slice) |",
            $"| waits longer than 10 ms (wall clock) | {before.Over10} | {after.Over10} |",
            $"| p99 of the wait (wall clock) | {before.P99} ms | {after.P99} ms |",
            $"| longest wait (wall clock) | {before.Max} ms | {after.Max} ms |",
            $"({after.Rounds} rounds, a", // the text above the table
            $"({before.Late} vs {after.Late} in two", // and below it
        ];
        var missing = rows.Where(r => !page.Contains(r, StringComparison.Ordinal)).ToList();
        Assert.True(missing.Count == 0, "docs/user-interrupts.md does not show what lab-lost-wakeup.txt holds; expected rows:\n" + string.Join('\n', missing));
    }

    /// <summary>The figures of one section ("## after", "## before") of the lab output, formatted as the table shows them.</summary>
    private static (string Rounds, string Late, string WorstSlice, string Over10, string P99, string Max) Run(string lab, string section)
    {
        string text = lab[(lab.IndexOf($"## {section}\n", StringComparison.Ordinal) + section.Length + 4)..];
        text = text[..(text.IndexOf("\n## ", StringComparison.Ordinal) is int end and >= 0 ? end : text.Length)];
        Match waits = Waits().Match(text);
        Match shim = Shim().Match(text);
        Assert.True(waits.Success && shim.Success, $"the '{section}' section of the lab output no longer has the lines this test reads:\n{text}");
        string Ms(Match m, string group) => double.Parse(m.Groups[group].Value, s_inv).ToString("0.#", s_inv);
        return (int.Parse(waits.Groups["rounds"].Value, s_inv).ToString("N0", s_inv), shim.Groups["late"].Value, Ms(shim, "worst"),
            waits.Groups["over10"].Value, Ms(waits, "p99"), Ms(waits, "max"));
    }

    [GeneratedRegex(@"(?<rounds>\d+) rounds: waits max (?<max>[\d.]+) ms, p99\.9 [\d.]+ ms, p99 (?<p99>[\d.]+) ms, .*over 10 ms: (?<over10>\d+)")]
    private static partial Regex Waits();

    [GeneratedRegex(@"(?<late>\d+) late wake-ups .*worst slice paid (?<worst>[\d.]+) ms")]
    private static partial Regex Shim();
}
