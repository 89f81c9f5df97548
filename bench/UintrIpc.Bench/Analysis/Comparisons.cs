using UintrIpc.Bench.Reporting;
using UintrIpc.Bench.Results;

namespace UintrIpc.Bench.Analysis;

/// <summary>Ratios to the same-run C baselines, and the project's speed targets.</summary>
internal static class Comparisons
{
    /// <summary>Fills <see cref="BenchResult.Ratio"/> of every row that names a baseline present in <paramref name="results"/>.</summary>
    public static void ApplyRatios(IReadOnlyList<BenchResult> results)
    {
        var byName = ByName(results);
        foreach (var r in results)
        {
            if (r.Baseline is { } b && r.Ok)
            {
                r.Ratio = r.Paired.TryGetValue(b, out double paired) ? Ratio(r.Headline, paired)
                    : byName.TryGetValue(b, out var c) && c.Ok ? Ratio(r, c) : null;
            }
        }
    }

    /// <summary>subject / the reference's headline, preferring the reference run paired with the subject.</summary>
    public static double? PairedRatio(BenchResult subject, BenchResult reference) =>
        subject.Paired.TryGetValue(reference.Name, out double paired) ? Ratio(subject.Headline, paired) : Ratio(subject, reference);

    private static double? Ratio(double? subject, double reference) =>
        subject is { } s && reference > 0 && !double.IsNaN(s) && !double.IsNaN(reference) ? s / reference : null;

    /// <summary>subject / reference on the headline number (p50 or messages/s).</summary>
    public static double? Ratio(BenchResult subject, BenchResult reference) =>
        subject.Headline is { } s && reference.Headline is { } c && c > 0 && !double.IsNaN(s) && !double.IsNaN(c) ? s / c : null;

    /// <summary>The .NET tests the fixed targets measure (run at least 5 times, see BenchRunner).</summary>
    public static readonly string[] TargetSubjects = ["net-slotring-spin", "net-futex-asleep", "net-futex-awake", "net-eventfd-asleep", "net-spsc-slot-tput-s64"];

    public static IReadOnlyList<TargetVerdict> EvaluateTargets(IReadOnlyList<BenchResult> results)
    {
        var byName = ByName(results);
        var verdicts = new List<TargetVerdict>
        {
            AtMost(byName, "Spinning ping-pong <= 1.3x the C slot-ring ping-pong", "net-slotring-spin", "c-slotring-pingpong", 1.3),
            AtMost(byName, "Spinning ping-pong <= 1.3x the C shared cache line (the floor)", "net-slotring-spin", "c-spin-cacheline", 1.3),
            AtMost(byName, "futex doorbell, consumer asleep, <= 1.25x C", "net-futex-asleep", "c-futex-pingpong", 1.25),
            AtMost(byName, "futex doorbell, consumer awake, <= 1.25x C", "net-futex-awake", "c-futex-spin-pingpong", 1.25),
            AtMost(byName, "eventfd doorbell, consumer asleep, <= 1.25x C", "net-eventfd-asleep", "c-eventfd-pingpong", 1.25),
            AtLeast(byName, "SPSC throughput, 64-byte messages, >= 0.8x the C SPSC ring", "net-spsc-slot-tput-s64", byName.TryGetValue("net-spsc-slot-tput-s64", out var s64) ? s64.Baseline ?? "c-slotring-tput-s64" : "c-slotring-tput-s64", 0.8),
        };

        // Every doorbell, awake and asleep, ahead of the pipe and Unix-socket round trips (.NET's alternatives).
        foreach (var r in results.Where(r => r.Ok && r.Kind == ResultKind.Latency && r.Implementation == "uintripc" && r.Transport == "slot-ring"))
        {
            foreach (var alternative in new[] { "net-pipe", "net-unix-socket" })
            {
                verdicts.Add(Ahead(byName, r, alternative));
            }
        }

        return verdicts;
    }

    private static TargetVerdict AtMost(Dictionary<string, BenchResult> byName, string target, string subject, string reference, double limit)
    {
        if (!TryPair(byName, subject, reference, out var s, out var c, out string missing))
        {
            return new TargetVerdict(target, subject, reference, null, $"<= {limit:0.##}x", null, missing);
        }

        double? ratio = PairedRatio(s, c);
        bool met = ratio <= limit;
        return new TargetVerdict(target, subject, reference, ratio, $"<= {limit:0.##}x", met, Explain(s, c, met));
    }

    private static TargetVerdict AtLeast(Dictionary<string, BenchResult> byName, string target, string subject, string reference, double limit)
    {
        if (!TryPair(byName, subject, reference, out var s, out var c, out string missing))
        {
            return new TargetVerdict(target, subject, reference, null, $">= {limit:0.##}x", null, missing);
        }

        double? ratio = PairedRatio(s, c);
        bool met = ratio >= limit;
        return new TargetVerdict(target, subject, reference, ratio, $">= {limit:0.##}x", met, Explain(s, c, met));
    }

    private static TargetVerdict Ahead(Dictionary<string, BenchResult> byName, BenchResult doorbell, string alternative)
    {
        string target = $"{doorbell.Doorbell} doorbell ({doorbell.Consumer}) ahead of {alternative}";
        if (!byName.TryGetValue(alternative, out var a) || !a.Ok)
        {
            return new TargetVerdict(target, doorbell.Name, alternative, null, "< 1x", null, $"{alternative} did not run");
        }

        double? ratio = PairedRatio(doorbell, a);
        bool met = ratio < 1;
        return new TargetVerdict(target, doorbell.Name, alternative, ratio, "< 1x", met, Explain(doorbell, a, met));
    }

    private static bool TryPair(Dictionary<string, BenchResult> byName, string subject, string reference, out BenchResult s, out BenchResult c, out string missing)
    {
        s = c = null!;
        missing = string.Empty;
        if (!byName.TryGetValue(subject, out var sr) || !sr.Ok)
        {
            missing = sr?.Error is { } e ? $"{subject} failed: {e}" : $"{subject} did not run";
            return false;
        }

        if (!byName.TryGetValue(reference, out var cr) || !cr.Ok)
        {
            missing = cr?.Error is { } e ? $"{reference} failed: {e}" : $"{reference} did not run";
            return false;
        }

        s = sr;
        c = cr;
        return true;
    }

    /// <summary>The facts that explain a comparison, from the two rows' own numbers.</summary>
    internal static string Explain(BenchResult s, BenchResult c, bool met)
    {
        var facts = new List<string>();
        bool paired = s.Paired.TryGetValue(c.Name, out double pairedHeadline);
        if (s.Kind == ResultKind.Latency)
        {
            facts.Add(paired
                ? Fmt.Invariant($"p50 {Fmt.Us(s.Latency!.P50)} us vs {Fmt.Us(pairedHeadline)} us for {c.Name} run just before it ({Fmt.Us(c.Latency!.P50)} us in the C group run)")
                : Fmt.Invariant($"p50 {Fmt.Us(s.Latency!.P50)} vs {Fmt.Us(c.Latency!.P50)} us, p90 {Fmt.Us(s.Latency.P90)} vs {Fmt.Us(c.Latency.P90)} us"));
        }
        else
        {
            facts.Add(paired
                ? Fmt.Invariant($"{Fmt.Millions(s.Throughput!.MessagesPerSecond)} M msg/s vs {Fmt.Millions(pairedHeadline)} for {c.Name} run just before it ({Fmt.Millions(c.Throughput!.MessagesPerSecond)} in the C group run)")
                : Fmt.Invariant($"{Fmt.Millions(s.Throughput!.MessagesPerSecond)} vs {Fmt.Millions(c.Throughput!.MessagesPerSecond)} M msg/s"));
        }

        if (s.Repeats is { Count: > 1 } repeats)
        {
            string Format(IEnumerable<double> values) => string.Join(", ", values.Select(v => s.Kind == ResultKind.Latency ? Fmt.Us(v) : Fmt.Millions(v)));
            facts.Add(s.PairedRuns.TryGetValue(c.Name, out var cRuns)
                ? $"{repeats.Count} runs alternating with C: .NET {Format(repeats)}; C {Format(cRuns)}"
                : $"{repeats.Count} runs: {Format(repeats)}");
        }

        if (s.CpuNsPerMsgSender is { } ss && s.CpuNsPerMsgReceiver is { } sr && c.CpuNsPerMsgSender is { } cs && c.CpuNsPerMsgReceiver is { } cr)
        {
            facts.Add(Fmt.Invariant($"CPU per message {Fmt.Ns(ss)}/{Fmt.Ns(sr)} ns vs {Fmt.Ns(cs)}/{Fmt.Ns(cr)} ns (sender/receiver)"));
        }

        if (s.WakesPerMsg is { } sw)
        {
            facts.Add(Fmt.Invariant($"{Fmt.Number(sw, "0.00")} doorbell rings per message{(c.WakesPerMsg is { } cw ? Fmt.Invariant($" vs {Fmt.Number(cw, "0.00")}") : "")}"));
        }

        if (s.Consumer == "spinning" && (s.CpuUtilSender < 0.9 || s.CpuUtilReceiver < 0.9))
        {
            facts.Add(Fmt.Invariant($"a spinning side got less than its CPU (util {Fmt.Util(s.CpuUtilSender)}/{Fmt.Util(s.CpuUtilReceiver)}): the run was disturbed"));
        }

        if (c.Consumer == "spinning" && (c.CpuUtilSender < 0.9 || c.CpuUtilReceiver < 0.9))
        {
            facts.Add(Fmt.Invariant($"the reference's sides got util {Fmt.Util(c.CpuUtilSender)}/{Fmt.Util(c.CpuUtilReceiver)}"));
        }

        return (met ? "met: " : "missed: ") + string.Join("; ", facts);
    }

    private static Dictionary<string, BenchResult> ByName(IReadOnlyList<BenchResult> results)
    {
        var map = new Dictionary<string, BenchResult>(StringComparer.Ordinal);
        foreach (var r in results)
        {
            map.TryAdd(r.Name, r);
        }

        return map;
    }
}
