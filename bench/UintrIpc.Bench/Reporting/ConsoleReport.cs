using Spectre.Console;
using UintrIpc.Bench.Analysis;
using UintrIpc.Bench.Results;

namespace UintrIpc.Bench.Reporting;

/// <summary>The tables on the console (Spectre.Console), the same rows as the Markdown report.</summary>
internal static class ConsoleReport
{
    public static void Write(RunReport report, string outputDirectory)
    {
        if (Console.IsOutputRedirected)
        {
            // Redirected output has no width; 80 columns would wrap every cell.
            AnsiConsole.Profile.Width = 200;
        }

        var cases = Ratios.Summarize(report.Results);
        var nativeOnly = Ratios.NativeOnly(report.Results).ToList();
        AnsiConsole.MarkupLine(Markup.Escape(MarkdownReport.UintrSentence(report).Replace("**", "", StringComparison.Ordinal)));
        WriteTable("Round-trip latency (ping-pong, two processes)", ReportRows.LatencyHeader,
            ReportRows.Rows(cases, nativeOnly, ResultKind.Latency).Select(ReportRows.Latency));
        WriteTable("One-way throughput", ReportRows.ThroughputHeader,
            ReportRows.Rows(cases, nativeOnly, ResultKind.Throughput).Select(ReportRows.Throughput));

        var targets = Targets.ForRun(cases, SweepBest.Of(cases, report.Results));
        if (targets.Count > 0)
        {
            var table = new Table().Title("[bold]Targets[/] (median of per-pair ratios)").AddColumns("Target", "Ratio", "Limit", "Met");
            foreach (var t in targets)
            {
                string met = t.Met switch { true => "[green]yes[/]", false => "[red]no[/]", null => "[yellow]n/a[/]" };
                table.AddRow(Markup.Escape(t.Target), Markup.Escape(Fmt.Spread(t.Ratio)), Markup.Escape(t.Limit), met);
            }

            AnsiConsole.Write(table);
        }

        AnsiConsole.MarkupLine($"Report, JSON, CSV and plots: [bold]{Markup.Escape(outputDirectory)}[/]");
    }

    private static void WriteTable(string title, string[] header, IEnumerable<string[]> rows)
    {
        var table = new Table().Title($"[bold]{Markup.Escape(title)}[/]").Border(TableBorder.Rounded);
        foreach (var h in header)
        {
            table.AddColumn(new TableColumn(Markup.Escape(h)).RightAligned());
        }

        table.Columns[0].LeftAligned();
        int n = 0;
        foreach (var row in rows)
        {
            table.AddRow(row.Select(cell => cell.StartsWith("FAILED", StringComparison.Ordinal) ? $"[red]{Markup.Escape(cell)}[/]" : Markup.Escape(cell)).ToArray());
            n++;
        }

        if (n > 0)
        {
            AnsiConsole.Write(table);
        }
    }
}
