using System.Globalization;
using ScottPlot;
using UintrIpc.Bench.Results;

namespace UintrIpc.Bench.Reporting;

/// <summary>
/// The PNG plots (ScottPlot 5): latency percentile curves per doorbell (consumers awake, and
/// asleep or blocking), and throughput by message size (messages/s and bytes/s). Log scales
/// are drawn by plotting log10 of the data with tick labels in real units. C baselines are dashed.
/// </summary>
internal static class PlotWriter
{
    private const int Width = 1400;
    private const int Height = 700;

    /// <summary>Writes every plot that has data; returns the files written.</summary>
    /// <summary>The files <see cref="WriteAll"/> can write, in its order.</summary>
    public static readonly string[] FileNames = ["latency-awake.png", "latency-asleep.png", "throughput-messages.png", "throughput-bytes.png"];

    public static IReadOnlyList<string> WriteAll(IReadOnlyList<BenchResult> results, string directory)
    {
        var files = new List<string>();
        var latency = results.Where(r => r.Ok && r.Kind == ResultKind.Latency && r.Curve is { Count: > 0 }).ToList();
        Add(files, LatencyPlot(latency.Where(r => r.Consumer == "spinning").ToList(),
            "Round trip, consumers awake (spinning)", Path.Combine(directory, "latency-awake.png")));
        Add(files, LatencyPlot(latency.Where(r => r.Consumer != "spinning").ToList(),
            "Round trip, consumers asleep (doorbells) or blocked in a read (pipes, sockets)", Path.Combine(directory, "latency-asleep.png")));
        var throughput = results.Where(r => r.Ok && r.Kind == ResultKind.Throughput && r.Throughput is not null).ToList();
        Add(files, ThroughputPlot(throughput, bytes: false, Path.Combine(directory, "throughput-messages.png")));
        Add(files, ThroughputPlot(throughput, bytes: true, Path.Combine(directory, "throughput-bytes.png")));
        return files;
    }

    private static void Add(List<string> files, string? file)
    {
        if (file is not null)
        {
            files.Add(file);
        }
    }

    private static string? LatencyPlot(List<BenchResult> rows, string title, string path)
    {
        if (rows.Count == 0)
        {
            return null;
        }

        var plot = new Plot();
        plot.Title(title);
        plot.XLabel("percentile");
        plot.YLabel("round trip");
        double minY = double.MaxValue, maxY = double.MinValue;
        int i = 0;
        foreach (var r in rows)
        {
            // x = -log10(1 - p): 50% -> 0.3, 90% -> 1, 99% -> 2, 99.9% -> 3; the max sits at 5.
            var points = r.Curve!.Where(p => p.Nanoseconds > 0).ToList();
            double[] xs = points.Select(p => p.Percentile >= 100 ? 5.0 : -Math.Log10(1 - (p.Percentile / 100))).ToArray();
            double[] ys = points.Select(p => Math.Log10(p.Nanoseconds)).ToArray();
            var line = plot.Add.ScatterLine(xs, ys);
            line.LegendText = r.Name;
            line.LineWidth = 2;
            line.Color = Palette(i++);
            if (r.IsNative)
            {
                line.LinePattern = LinePattern.Dashed;
            }

            minY = Math.Min(minY, ys.Min());
            maxY = Math.Max(maxY, ys.Max());
        }

        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            [0, 0.30103, 1, 2, 3, 4, 5], ["0%", "50%", "90%", "99%", "99.9%", "99.99%", "max"]);
        SetLogTicks(plot.Axes.Left, Math.Floor(minY), Math.Ceiling(maxY), v => Duration(v));
        plot.Axes.SetLimitsX(-0.1, 5.1);
        plot.ShowLegend(Edge.Right);
        plot.SavePng(path, Width, Height);
        return path;
    }

    private static string? ThroughputPlot(List<BenchResult> rows, bool bytes, string path)
    {
        if (rows.Count == 0)
        {
            return null;
        }

        var plot = new Plot();
        plot.Title(bytes ? "One-way throughput, payload bytes per second" : "One-way throughput, messages per second");
        plot.XLabel("message size");
        plot.YLabel(bytes ? "bytes/s" : "messages/s");
        double minY = double.MaxValue, maxY = double.MinValue;
        int i = 0;
        foreach (var series in rows.GroupBy(r => SeriesName(r)).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var points = series.Where(r => (bytes ? r.Throughput!.BytesPerSecond : r.Throughput!.MessagesPerSecond) > 0).OrderBy(r => r.MessageSize).ToList();
            if (points.Count == 0)
            {
                continue;
            }

            double[] xs = points.Select(r => Math.Log2(r.MessageSize)).ToArray();
            double[] ys = points.Select(r => Math.Log10(bytes ? r.Throughput!.BytesPerSecond : r.Throughput!.MessagesPerSecond)).ToArray();
            var line = plot.Add.Scatter(xs, ys);
            line.LegendText = series.Key;
            line.LineWidth = 2;
            line.MarkerSize = 7;
            line.Color = Palette(i++);
            if (points[0].IsNative)
            {
                line.LinePattern = LinePattern.Dashed;
            }

            minY = Math.Min(minY, ys.Min());
            maxY = Math.Max(maxY, ys.Max());
        }

        double[] sizes = [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            sizes, sizes.Select(s => Fmt.Size((int)Math.Pow(2, s))).ToArray());
        SetLogTicks(plot.Axes.Left, Math.Floor(minY), Math.Ceiling(maxY), v => bytes ? Bytes(v) : Count(v));
        plot.ShowLegend(Edge.Right);
        plot.SavePng(path, Width, Height);
        return path;
    }

    private static string SeriesName(BenchResult r) =>
        $"{(r.IsNative ? "C" : r.Implementation)} {r.Transport}{(r.Capacity > 0 ? $" {Workloads.Catalog.CapacityName(r.Capacity)} slots" : "")}{(r.Producers > 1 ? $" x{r.Producers} producers" : r.Transport.StartsWith("mpsc", StringComparison.Ordinal) ? " x1 producer" : "")}";

    private static void SetLogTicks(IAxis axis, double lo, double hi, Func<double, string> label)
    {
        if (hi <= lo)
        {
            hi = lo + 1;
        }

        var positions = new List<double>();
        var labels = new List<string>();
        for (double d = lo; d <= hi; d++)
        {
            foreach (double m in new[] { 1.0, 2.0, 5.0 })
            {
                double v = d + Math.Log10(m);
                if (v <= hi)
                {
                    positions.Add(v);
                    labels.Add(label(Math.Pow(10, v)));
                }
            }
        }

        axis.TickGenerator = new ScottPlot.TickGenerators.NumericManual(positions.ToArray(), labels.ToArray());
        axis.Min = lo;
        axis.Max = hi;
    }

    private static string Duration(double ns) => ns switch
    {
        >= 1e9 => (ns / 1e9).ToString("0.#", CultureInfo.InvariantCulture) + " s",
        >= 1e6 => (ns / 1e6).ToString("0.#", CultureInfo.InvariantCulture) + " ms",
        >= 1e3 => (ns / 1e3).ToString("0.#", CultureInfo.InvariantCulture) + " us",
        _ => ns.ToString("0", CultureInfo.InvariantCulture) + " ns",
    };

    private static string Count(double v) => v switch
    {
        >= 1e9 => (v / 1e9).ToString("0.#", CultureInfo.InvariantCulture) + " G",
        >= 1e6 => (v / 1e6).ToString("0.#", CultureInfo.InvariantCulture) + " M",
        >= 1e3 => (v / 1e3).ToString("0.#", CultureInfo.InvariantCulture) + " k",
        _ => v.ToString("0", CultureInfo.InvariantCulture),
    };

    private static string Bytes(double v) => Count(v) + "B";

    private static Color Palette(int i)
    {
        Color[] colors =
        [
            Colors.Blue, Colors.Red, Colors.Green, Colors.Orange, Colors.Purple, Colors.Brown, Colors.Magenta, Colors.Teal,
            Colors.Olive, Colors.Navy, Colors.Maroon, Colors.DarkCyan, Colors.Gray, Colors.Black, Colors.Gold, Colors.DeepPink,
        ];
        return colors[i % colors.Length];
    }
}
