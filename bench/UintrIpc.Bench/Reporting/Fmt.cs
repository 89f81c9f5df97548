using System.Globalization;

namespace UintrIpc.Bench.Reporting;

/// <summary>Number formatting shared by the console table, the Markdown and the CSV (invariant culture).</summary>
internal static class Fmt
{
    private static readonly CultureInfo s_inv = CultureInfo.InvariantCulture;

    /// <summary>Nanoseconds as microseconds with three decimals (the C summary's unit).</summary>
    public static string Us(double? ns) => ns is { } v && !double.IsNaN(v) ? (v / 1000).ToString(v >= 10_000_000 ? "0" : "0.000", s_inv) : "";

    public static string Ns(double? ns) => ns is { } v && !double.IsNaN(v) ? v.ToString(v >= 100 ? "0" : "0.0", s_inv) : "";

    /// <summary>A ratio with two decimals; below 0.1 with three, so that a spinning row against a kernel path does not read as 0.00x.</summary>
    public static string Ratio(double? r) => r is { } v && !double.IsNaN(v) ? v.ToString(v < 0.1 ? "0.000" : "0.00", s_inv) + "x" : "";

    public static string Util(double? u) => u is { } v && !double.IsNaN(v) ? v.ToString("0.00", s_inv) : "";

    public static string Pair(string a, string b) => a.Length == 0 && b.Length == 0 ? "" : $"{a} / {b}";

    public static string Millions(double? perSecond) => perSecond is { } v ? (v / 1e6).ToString(v >= 1e8 ? "0" : "0.00", s_inv) : "";

    public static string MegaBytes(double? perSecond) => perSecond is { } v ? (v / 1e6).ToString("0", s_inv) : "";

    public static string Size(int bytes) => bytes >= 1024 && bytes % 1024 == 0 ? $"{bytes / 1024} KiB" : $"{bytes} B";

    /// <summary>A ring throughput test's setting: "64k slots, batched".</summary>
    public static string Setting(Results.BenchResult r) => $"{Workloads.Catalog.CapacityName(r.Capacity)} slots, {(r.Batched ? "batched" : "single")}";

    public static string Number(double? v, string format = "0.###") => v is { } x && !double.IsNaN(x) ? x.ToString(format, s_inv) : "";

    public static string Invariant(FormattableString s) => s.ToString(s_inv);

    /// <summary>
    /// Median (range, count) of ratios; ratios below 0.1 (the gRPC comparisons) with three decimals, so they do not read as 0.
    /// A <paramref name="note"/> goes inside the brackets, after the count.
    /// </summary>
    public static string Spread(Analysis.Spread? spread, string unit = "pairs", string? note = null)
    {
        if (spread is not { } s)
        {
            return "";
        }

        string f = s.Max < 0.1 ? "0.000" : "0.00";
        string median = s.Median.ToString(f, s_inv) + "x";
        string more = note is null ? "" : ", " + note;
        return s.Count == 1 ? Invariant($"{median} (1 {unit.TrimEnd('s')}{more})")
            : Invariant($"{median} ({s.Min.ToString(f, s_inv)}-{s.Max.ToString(f, s_inv)}, {s.Count} {unit}{more})");
    }
}
