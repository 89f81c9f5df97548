using Spectre.Console;
using UintrIpc.Bench.Results;

namespace UintrIpc.Bench.Reporting;

/// <summary>The tables on the console (Spectre.Console).</summary>
internal static class ConsoleReport
{
    private static readonly Dictionary<string, string> s_latencyRenames = new(StringComparer.Ordinal)
    {
        ["CPU ns/rt"] = "CPU ns/rt snd/rcv", ["util"] = "util snd/rcv", ["x C"] = "x C p50",
    };

    private static readonly Dictionary<string, string> s_throughputRenames = new(StringComparer.Ordinal)
    {
        ["CPU ns/msg"] = "CPU ns/msg snd/rcv", ["util"] = "util snd/rcv", ["x C"] = "x C rate",
    };

    public static void Write(RunReport report, string outputDirectory)
    {
        if (Console.IsOutputRedirected)
        {
            // Redirected output has no width; 80 columns would wrap every cell.
            AnsiConsole.Profile.Width = 180;
        }

        WriteTable("Round-trip latency (ping-pong, two processes)", ReportRows.LatencyConsoleHeader,
            ReportRows.LatencyRows(report.Results).Select(r => ReportRows.Project(ReportRows.Latency(r), ReportRows.LatencyHeader, ReportRows.LatencyConsoleHeader, s_latencyRenames)));
        WriteTable("One-way throughput", ReportRows.ThroughputConsoleHeader,
            ReportRows.ThroughputRows(report.Results).Select(r => ReportRows.Project(ReportRows.Throughput(r), ReportRows.ThroughputHeader, ReportRows.ThroughputConsoleHeader, s_throughputRenames)));

        var targets = new Table().Title("[bold]Targets[/] (ratios to the same-run baseline)").AddColumns("Target", "Ratio", "Limit", "Met");
        foreach (var t in report.Targets)
        {
            string met = t.Met switch { true => "[green]yes[/]", false => "[red]no[/]", null => "[yellow]n/a[/]" };
            targets.AddRow(Markup.Escape(t.Target), Fmt.Ratio(t.Ratio), Markup.Escape(t.Limit), met);
        }

        AnsiConsole.Write(targets);
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
