using System.Globalization;
using System.Text.Json;
using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.Bench;

/// <summary>
/// The sweep's confirmation stage (issue 11's "every size at least equal to the C baseline of the
/// same design and setting"): the harness re-runs the best .NET setting of each ring kind and size
/// next to its C ring as alternating pairs, and the "Best setting per message size" table and the
/// per-size target report the median of those pairs' ratios. The report tests feed the harness a
/// results file of made-up runs (--report-from) and assert the generated rows exactly.
/// </summary>
[Collection(CrossProcessCollection.Name)]
public sealed class SweepConfirmationTests
{
    private const string Confirmation = "confirmation";

    [Fact]
    public void Best_setting_table_shows_the_median_of_the_confirmation_pairs_and_the_figures_of_the_pair_nearest_it()
    {
        string report = ReportFrom(SweepRuns().Concat(ConfirmationRuns()));
        Assert.Equal(
        [
            "| 8 B | spsc-slot | 1k slots, single | 66.00 | 528 | 10.0 / 12.0 | 55.00 | 1.20x (1 pair) | 50.00 (1k, single) |",
            "| 64 B | mpsc-record x2 | 1k slots, batched | 10.00 | 640 | 10.0 / 12.0 |  |  |  |",
            // Pairs 0.90, 0.95, 1.20: the median is pair 2's (.NET 38, C 40).
            "| 64 B | spsc-record | 1k slots, batched | 38.00 | 2432 | 10.0 / 12.0 | 40.00 | 0.95x (0.90-1.20, 3 pairs) | 30.00 (1k, batched) |",
            // The sweep's best (64k batched, 0.80x in its one pair) confirmed at 1.10, 1.00, 1.50: pair 1's figures.
            "| 64 B | spsc-slot | 64k slots, batched | 44.00 | 2816 | 10.0 / 12.0 | 40.00 | 1.10x (1.00-1.50, 3 pairs) | 50.00 (64k, batched) |",
        ],
        BestSettingRows(report));
        Assert.Contains("(the confirmation stage, `--confirm-pairs`)", report, StringComparison.Ordinal);
    }

    [Fact]
    public void Per_size_target_is_met_only_when_every_confirmed_ring_kind_has_a_median_of_at_least_1()
    {
        string report = ReportFrom(SweepRuns().Concat(ConfirmationRuns()));
        Assert.Equal(
        [
            "| 8 B: every ring kind at its best setting &ge; 1x the C ring of the same design and setting (confirmation pairs) | net-spsc-slot-s8-c1k | c-slotring-tput-s8-c1k | 1.20x (1 pair) | &ge; 1x | yes | "
                + "each ring kind's median (the lowest is shown): spsc-slot at 1k slots, single: 1.20x (1 pair) |",
            "| 64 B: every ring kind at its best setting &ge; 1x the C ring of the same design and setting (confirmation pairs) | net-spsc-record-batch-s64-c1k | c-recordring-tput-batch-s64-c1k | 0.95x (0.90-1.20, 3 pairs) | &ge; 1x | **no** | "
                + "each ring kind's median (the lowest is shown): spsc-record at 1k slots, batched: 0.95x (0.90-1.20, 3 pairs); spsc-slot at 64k slots, batched: 1.10x (1.00-1.50, 3 pairs) |",
        ],
        report.Split('\n').Where(l => l.Contains("every ring kind at its best setting", StringComparison.Ordinal)));
    }

    [Fact]
    public void A_candidate_whose_sweep_run_hit_a_fast_mode_is_not_picked_when_its_pick_rounds_are_slow()
    {
        // No confirmation: the table shows the picked setting's sweep row. The sweep's fastest .NET
        // run (64k single, 135 M) is a fast mode that came back in one of its three rounds only.
        string report = ReportFrom(PickSweepRuns().Concat(PickRounds()));
        Assert.Equal(
        [
            "| 64 B | spsc-slot | 4k slots, batched | 71.00 | 4544 | 10.0 / 12.0 | 28.80 | 2.47x (1 pair, 1 above 1; neither side shown faster by the sign test, p = 0.5) | 29.00 (1k, batched) |",
        ],
        BestSettingRows(report));
        Assert.Contains("each side's best setting is its candidate with the highest median rate over the rounds", report, StringComparison.Ordinal);
    }

    [Fact]
    public void Picks_table_lists_every_candidates_rounds_with_their_median_and_every_confirmation_pair_in_run_order()
    {
        string report = ReportFrom(PickSweepRuns().Concat(PickRounds()).Concat(PickConfirmation()));
        // Nine pairs 2.40, 2.20, 0.90, 2.50, 2.30, 2.60, 2.10, 1.10, 2.45: median 2.30 (pair 5: .NET 69, C 30), 8 of them above 1.
        // The sign test: were neither side faster, 8 or more of 9 above 1 has probability (1 + 9) / 512 = 0.0195 < 0.05: ahead.
        Assert.Equal(
        [
            "| 64 B | spsc-slot | 4k slots, batched | 69.00 | 4416 | 10.0 / 12.0 | 30.00 | 2.30x (0.90-2.60, 9 pairs, 8 above 1; ahead by the sign test, p = 0.02) | 29.00 (1k, batched) |",
        ],
        BestSettingRows(report));
        // A failed round does not count; two completed rounds have the mean of the two as their median.
        Assert.Equal(
        [
            "| 64 B | spsc-slot | 64k single 135; 12.10, 135, 13.00 [13.00]<br>**4k batched** 71.00; 69.00, 71.00, 20.00 [69.00]<br>1k batched 70.90; 60.00, failed, 68.00 [64.00] "
                + "| 4k single 30.10; 6.70, 30.00, 6.60 [6.70]<br>**1k batched** 29.80; 29.00, 28.00, 31.00 [29.00]<br>16k single 29.00; 20.00, 21.00, 22.00 [21.00] "
                + "| 2.40, 2.20, 0.90, 2.50, 2.30, 2.60, 2.10, 1.10, 2.45 |",
        ],
        TableRows(report, "## How each best setting was picked"));
        Assert.Contains("each ring kind's median (the lowest is shown): spsc-slot at 4k slots, batched: 2.30x (0.90-2.60, 9 pairs, 8 above 1; ahead by the sign test, p = 0.02) |", report, StringComparison.Ordinal);
    }

    [Fact]
    public void Results_without_confirmation_runs_keep_the_one_pair_table_and_no_per_size_target()
    {
        string report = ReportFrom(SweepRuns());
        Assert.Equal(
        [
            "| 8 B | spsc-slot | 1k slots, single | 60.00 | 480 | 10.0 / 12.0 | 50.00 | 1.20x (1 pair) | 50.00 (1k, single) |",
            "| 64 B | mpsc-record x2 | 1k slots, batched | 10.00 | 640 | 10.0 / 12.0 |  |  |  |",
            "| 64 B | spsc-record | 1k slots, batched | 30.00 | 1920 | 10.0 / 12.0 | 30.00 | 1.00x (1 pair) | 30.00 (1k, batched) |",
            "| 64 B | spsc-slot | 64k slots, batched | 40.00 | 2560 | 10.0 / 12.0 | 50.00 | 0.80x (1 pair) | 50.00 (64k, batched) |",
        ],
        BestSettingRows(report));
        Assert.Contains("C best is the highest C rate at any setting of that size (its median run).", report, StringComparison.Ordinal);
        Assert.DoesNotContain("every ring kind at its best setting", report, StringComparison.Ordinal);
    }

    [Fact]
    public void A_confirmation_pair_whose_mode_probes_differ_is_shown_with_its_probes_but_not_counted_in_the_median()
    {
        string report = ReportFrom(SweepRuns().Concat(ProbedConfirmation(allMixed: false)));
        // Counted (one mode): 1.00, 1.10, 0.95, 1.05, 1.0667: median 1.05 (pair 6: .NET 31.5, C 30), 3 above 1. With the two
        // mixed pairs (0.34, 0.30: the .NET run in the slow mode, C in the fast one) it would read 1.00 (0.30-1.10, 7 pairs).
        Assert.Equal(
            "| 64 B | spsc-record | 1k slots, batched | 31.50 | 2016 | 10.0 / 12.0 | 30.00 | 1.05x (0.95-1.10, 5 pairs, 3 above 1, 2 more in mixed modes not counted; neither side shown faster by the sign test, p = 0.5) | 30.00 (1k, batched) |",
            Assert.Single(BestSettingRows(report), l => l.Contains("| spsc-record |", StringComparison.Ordinal)));
        Assert.EndsWith(
            "| 1.00, 0.34 (mixed: .NET 121/360, C 360/362 ns), 1.10, 0.95, 0.30 (mixed: .NET 119/400, C 118/119 ns), 1.05, 1.07 |",
            Assert.Single(TableRows(report, "## How each best setting was picked"), l => l.Contains("| spsc-record |", StringComparison.Ordinal)),
            StringComparison.Ordinal);
        Assert.Contains("spsc-record at 1k slots, batched: 1.05x (0.95-1.10, 5 pairs, 3 above 1, 2 more in mixed modes not counted; neither side shown faster by the sign test, p = 0.5)", report, StringComparison.Ordinal);
        Assert.Contains("A pair whose probes differ by more than 1.25x (highest p50 / lowest) is mixed", report, StringComparison.Ordinal);
    }

    [Fact]
    public void When_every_confirmation_pair_is_in_mixed_modes_all_of_them_count_and_the_table_says_so()
    {
        string report = ReportFrom(SweepRuns().Concat(ProbedConfirmation(allMixed: true)));
        // All seven: 0.30, 0.34, 0.95, 1.00, 1.05, 1.0667, 1.10: median 1.00 (pair 1).
        Assert.Equal(
            "| 64 B | spsc-record | 1k slots, batched | 30.00 | 1920 | 10.0 / 12.0 | 30.00 | 1.00x (0.30-1.10, 7 pairs, 3 above 1, every pair in mixed modes: all counted; neither side shown faster by the sign test, p = 0.5) | 30.00 (1k, batched) |",
            Assert.Single(BestSettingRows(report), l => l.Contains("| spsc-record |", StringComparison.Ordinal)));
    }

    /// <summary>
    /// A real sweep of the 8-byte, 1 Ki-slot settings: per ring kind, both settings (single and
    /// batched) are each side's candidates; the pick stage runs each of them, .NET and C, once per
    /// round; the .NET test with the highest median over its rounds runs again, N times, each next to
    /// its C ring (C first in odd pairs, .NET first in even ones), each pair with a host-mode probe
    /// before, between and after its runs, more pairs in place of those whose probes differ by more
    /// than 1.25x (again while the replacements do), and N-1 more when the other pairs' ratios lie on
    /// both sides of 1, at most 3N pairs in all. Every ring kind of the sweep has a C ring now (the MPSC
    /// record ring's since c-mpscrecordring), so all four are confirmed.
    /// </summary>
    [Fact]
    public void Sweep_picks_each_ring_kinds_setting_by_the_median_of_its_pick_rounds_and_confirms_it_as_alternating_pairs()
    {
        const int Pairs = 2, Rounds = 3;
        var results = HarnessRun.AllResults(TimeSpan.FromSeconds(300), "--sweep", "--only", "-s8-c1k", "--confirm-pairs", Pairs.ToString(CultureInfo.InvariantCulture),
            "--pick-rounds", Rounds.ToString(CultureInfo.InvariantCulture), "--no-plots", "--no-pin", "--tput-count", "100000", "--warmup-ms", "50");
        var sweep = results.Where(r => !r.TryGetProperty("stage", out _)).ToList();
        var pick = results.Where(r => r.TryGetProperty("stage", out var s) && s.GetString() == "pick").ToList();
        var confirmation = results.Where(r => r.TryGetProperty("stage", out var s) && s.GetString() == Confirmation).ToList();
        Assert.Equal(results.Count, sweep.Count + pick.Count + confirmation.Count);
        Assert.Equal(["mpsc-record", "mpsc-slot", "spsc-record", "spsc-slot"], sweep.Where(r => r.TryGetProperty("baseline", out _) && Str(r, "implementation") == "uintripc")
            .Select(r => Kind(r)).Distinct().Order(StringComparer.Ordinal));

        // Every test of the sweep and its C ring ran once per round: two candidates per side and ring kind.
        var sweepNames = sweep.Select(r => Str(r, "name")).Distinct().Order(StringComparer.Ordinal).ToList();
        Assert.Equal(16, sweepNames.Count);
        Assert.Equal(sweepNames, pick.Select(r => Str(r, "name")).Distinct().Order(StringComparer.Ordinal));
        Assert.All(pick.GroupBy(r => Str(r, "name")), g => Assert.Equal(Enumerable.Range(1, Rounds), g.Select(r => r.GetProperty("repetition").GetInt32())));

        // What the harness must have picked: per ring kind, the .NET test with the highest median of its rounds.
        var expected = pick
            .Where(r => Str(r, "implementation") == "uintripc" && r.GetProperty("ok").GetBoolean())
            .GroupBy(Kind)
            .Select(kind => kind.GroupBy(r => Str(r, "name")).MaxBy(t => Median(t.Select(Rate)))!.Key)
            .ToList();
        var confirmed = confirmation.Where(r => Str(r, "implementation") == "uintripc").Select(r => Str(r, "name")).Distinct().ToList();
        Assert.Equal(expected.Order(StringComparer.Ordinal), confirmed.Order(StringComparer.Ordinal));
        foreach (string test in confirmed)
        {
            var runs = confirmation.Where(r => Str(r, "name") == test || (r.TryGetProperty("paired_with", out var p) && p.GetString() == test)).ToList();
            JsonElement Run(string implementation, int pair) => runs.Single(r => Str(r, "implementation") == implementation && r.GetProperty("repetition").GetInt32() == pair);
            // The harness's rule replayed on the pairs it made: after each batch, more pairs until
            // Pairs are counted (one mode: every probe of the pair within 1.25x, HostMode), or
            // 2 x Pairs - 1 where the counted ratios (all, when none counts) straddle 1, at most 3 x Pairs in all.
            bool OneMode(int i)
            {
                var probes = Probes(Run("uintripc", i)).Concat(Probes(Run("c", i))).ToList();
                return probes.Min() > 0 && probes.Max() / probes.Min() <= 1.25;
            }

            int total = Pairs;
            while (true)
            {
                var made = Enumerable.Range(1, total).ToList();
                var counted = made.Where(OneMode).ToList();
                var ratios = (counted.Count > 0 ? counted : made).Select(i => Rate(Run("uintripc", i)) / Rate(Run("c", i))).ToList();
                int wanted = ratios.Min() < 1 && ratios.Max() > 1 ? (2 * Pairs) - 1 : Pairs;
                int more = Math.Min(wanted - counted.Count, (3 * Pairs) - total);
                if (more <= 0)
                {
                    break;
                }

                total += more;
            }

            var order = Enumerable.Range(1, total).SelectMany(i => i % 2 == 1 ? new[] { ("c", i, true), ("uintripc", i, true) } : [("uintripc", i, true), ("c", i, true)]);
            Assert.Equal(order, runs.Select(r => (Str(r, "implementation"), r.GetProperty("repetition").GetInt32(), r.GetProperty("ok").GetBoolean())));
            // Each run carries the probe before and after it; a pair's two runs share the one between them.
            Assert.All(Enumerable.Range(1, total), i => Assert.Equal(Probes(runs[(2 * i) - 2])[1], Probes(runs[(2 * i) - 1])[0]));
        }
    }

    /// <summary>A confirmation run's host-mode probes (p50 ns before and after it): exactly two, each a real measurement.</summary>
    private static double[] Probes(JsonElement r)
    {
        var probes = r.GetProperty("mode_probes").EnumerateArray().Select(p => p.GetDouble()).ToArray();
        Assert.Equal(2, probes.Length);
        Assert.All(probes, p => Assert.InRange(p, 1, 1e6));
        return probes;
    }

    private static string Kind(JsonElement r) => Str(r, "transport").Replace("-batched", "", StringComparison.Ordinal);

    private static double Rate(JsonElement r) => r.GetProperty("throughput").GetProperty("messages_per_second").GetDouble();

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private static string Str(JsonElement e, string property) => e.GetProperty(property).GetString()!;

    /// <summary>The rows of the "Best setting per message size" table.</summary>
    private static List<string> BestSettingRows(string report) => TableRows(report, "## Best setting per message size");

    /// <summary>The rows of the first table after <paramref name="heading"/>.</summary>
    private static List<string> TableRows(string report, string heading) =>
        report[report.IndexOf(heading, StringComparison.Ordinal)..]
            .Split('\n').SkipWhile(l => !l.StartsWith("|---", StringComparison.Ordinal)).Skip(1).TakeWhile(l => l.StartsWith('|')).ToList();

    /// <summary>
    /// A sweep of 64 B spsc-slot at five settings, one pair each, in which the .NET 64k single run
    /// and the C 4k single run hit a fast mode of the host: the candidates are .NET 64k single, 4k
    /// batched and 1k batched, C 4k single, 1k batched and 16k single.
    /// </summary>
    private static IEnumerable<Dictionary<string, object?>> PickSweepRuns() =>
        new (string Form, int Capacity, double Net, double C)[] { ("", 65536, 135e6, 18.6e6), ("batch-", 4096, 71e6, 28.8e6), ("batch-", 1024, 70.9e6, 29.8e6), ("", 4096, 25.3e6, 30.1e6), ("", 16384, 29.6e6, 29e6) }
            .SelectMany(x => Pairs(SlotTest(x.Form, x.Capacity), SlotTest(x.Form, x.Capacity, "c-slotring-tput-"), x.Form.Length > 0 ? "spsc-slot-batched" : "spsc-slot", 64, x.Capacity, [(x.Net, x.C)]));

    /// <summary>Three pick rounds of each side's candidates (C first in odd rounds), one .NET round failed.</summary>
    private static IEnumerable<Dictionary<string, object?>> PickRounds()
    {
        var net = new (string Form, int Capacity, double[] Rates)[] { ("", 65536, [12.1e6, 135e6, 13e6]), ("batch-", 4096, [69e6, 71e6, 20e6]), ("batch-", 1024, [60e6, double.NaN, 68e6]) };
        var c = new (string Form, int Capacity, double[] Rates)[] { ("", 4096, [6.7e6, 30e6, 6.6e6]), ("batch-", 1024, [29e6, 28e6, 31e6]), ("", 16384, [20e6, 21e6, 22e6]) };
        string Transport(string form) => form.Length > 0 ? "spsc-slot-batched" : "spsc-slot";
        return Enumerable.Range(1, 3).SelectMany(round =>
            c.Select(x => C(SlotTest(x.Form, x.Capacity, "c-slotring-tput-"), Transport(x.Form), 64, x.Capacity, x.Rates[round - 1], SlotTest(x.Form, x.Capacity), round))
            .Concat(net.Select(x =>
            {
                var r = Net(SlotTest(x.Form, x.Capacity), Transport(x.Form), 64, x.Capacity, double.IsNaN(x.Rates[round - 1]) ? 1e6 : x.Rates[round - 1], SlotTest(x.Form, x.Capacity, "c-slotring-tput-"), round);
                if (double.IsNaN(x.Rates[round - 1]))
                {
                    r["error"] = "made up: a failed round";
                }

                return r;
            })))
            .Select(r =>
            {
                r["stage"] = "pick";
                return r;
            });
    }

    /// <summary>The picked 4k batched setting's nine confirmation pairs (five on both sides of 1, four more).</summary>
    private static IEnumerable<Dictionary<string, object?>> PickConfirmation() =>
        Pairs(SlotTest("batch-", 4096), SlotTest("batch-", 4096, "c-slotring-tput-"), "spsc-slot-batched", 64, 4096,
            [(72e6, 30e6), (66e6, 30e6), (27e6, 30e6), (75e6, 30e6), (69e6, 30e6), (78e6, 30e6), (63e6, 30e6), (33e6, 30e6), (73.5e6, 30e6)])
        .Select(r =>
        {
            r["stage"] = Confirmation;
            return r;
        });

    /// <summary>
    /// Seven confirmation pairs of the 64 B spsc-record setting with their host-mode probes (p50 ns before and after each
    /// run; the probe between a pair's runs on both): pairs 2 and 5 mixed (the .NET run next to a slow probe), 6 and 7 their
    /// replacements. <paramref name="allMixed"/>: every pair's last probe slow.
    /// </summary>
    private static IEnumerable<Dictionary<string, object?>> ProbedConfirmation(bool allMixed)
    {
        var pairs = new (double Net, double C, double[] Probes)[]
        {
            (30e6, 30e6, [120, 122, 121]), (11.7e6, 34.5e6, [121, 360, 362]), (33e6, 30e6, [118, 120, 119]), (28.5e6, 30e6, [120, 119, 121]),
            (12e6, 40e6, [118, 119, 400]), (31.5e6, 30e6, [122, 120, 121]), (32e6, 30e6, [119, 121, 120]),
        };
        var runs = Pairs("net-spsc-record-batch-s64-c1k", "c-recordring-tput-batch-s64-c1k", "spsc-record-batched", 64, 1024, pairs.Select(p => (p.Net, p.C)).ToArray()).ToList();
        for (int i = 0; i < pairs.Length; i++)
        {
            double[] probes = allMixed ? [.. pairs[i].Probes[..2], 400] : pairs[i].Probes;
            // Pairs runs C first in every pair; the harness runs .NET first in even pairs: the probes follow the run order.
            bool netFirst = (i + 1) % 2 == 0;
            runs[2 * i]["mode_probes"] = netFirst ? probes[1..] : probes[..2];
            runs[(2 * i) + 1]["mode_probes"] = netFirst ? probes[..2] : probes[1..];
        }

        return runs.Select(r =>
        {
            r["stage"] = Confirmation;
            return r;
        });
    }

    /// <summary>"net-spsc-slot-batch-s64-c4k", or with <paramref name="prefix"/> its C ring's name.</summary>
    private static string SlotTest(string form, int capacity, string prefix = "net-spsc-slot-") =>
        $"{prefix}{form}s64-c{capacity / 1024}k";

    /// <summary>
    /// The sweep's one-pair rows: 8 B spsc-slot at one setting; 64 B spsc-slot at two settings
    /// (the faster one loses to C in its pair), spsc-record at one, and an MPSC record ring (no C ring).
    /// </summary>
    private static IEnumerable<Dictionary<string, object?>> SweepRuns() =>
    [
        Net("net-spsc-slot-s8-c1k", "spsc-slot", 8, 1024, 60e6, "c-slotring-tput-s8-c1k", 1),
        C("c-slotring-tput-s8-c1k", "spsc-slot", 8, 1024, 50e6, "net-spsc-slot-s8-c1k", 1),
        Net("net-mpsc-record-batch-s64-c1k-p2", "mpsc-record-batched", 64, 1024, 10e6, null, 1, producers: 2),
        Net("net-spsc-record-batch-s64-c1k", "spsc-record-batched", 64, 1024, 30e6, "c-recordring-tput-batch-s64-c1k", 1),
        C("c-recordring-tput-batch-s64-c1k", "spsc-record-batched", 64, 1024, 30e6, "net-spsc-record-batch-s64-c1k", 1),
        Net("net-spsc-slot-s64-c1k", "spsc-slot", 64, 1024, 20e6, "c-slotring-tput-s64-c1k", 1),
        C("c-slotring-tput-s64-c1k", "spsc-slot", 64, 1024, 25e6, "net-spsc-slot-s64-c1k", 1),
        Net("net-spsc-slot-batch-s64-c64k", "spsc-slot-batched", 64, 65536, 40e6, "c-slotring-tput-batch-s64-c64k", 1),
        C("c-slotring-tput-batch-s64-c64k", "spsc-slot-batched", 64, 65536, 50e6, "net-spsc-slot-batch-s64-c64k", 1),
    ];

    /// <summary>The confirmation pairs of the best settings, C first in odd pairs as the harness runs them.</summary>
    private static IEnumerable<Dictionary<string, object?>> ConfirmationRuns() =>
        new[]
        {
            Net("net-spsc-slot-s8-c1k", "spsc-slot", 8, 1024, 66e6, "c-slotring-tput-s8-c1k", 1),
            C("c-slotring-tput-s8-c1k", "spsc-slot", 8, 1024, 55e6, "net-spsc-slot-s8-c1k", 1),
        }
        .Concat(Pairs("net-spsc-record-batch-s64-c1k", "c-recordring-tput-batch-s64-c1k", "spsc-record-batched", 64, 1024, [(27e6, 30e6), (38e6, 40e6), (36e6, 30e6)]))
        .Concat(Pairs("net-spsc-slot-batch-s64-c64k", "c-slotring-tput-batch-s64-c64k", "spsc-slot-batched", 64, 65536, [(44e6, 40e6), (30e6, 30e6), (48e6, 32e6)]))
        .Select(r =>
        {
            r["stage"] = Confirmation;
            return r;
        });

    private static IEnumerable<Dictionary<string, object?>> Pairs(string net, string c, string transport, int size, int capacity, (double Net, double C)[] rates) =>
        rates.SelectMany((x, i) => new[] { C(c, transport, size, capacity, x.C, net, i + 1), Net(net, transport, size, capacity, x.Net, c, i + 1) });

    private static Dictionary<string, object?> Net(string name, string transport, int size, int capacity, double rate, string? baseline, int repetition, int producers = 1)
    {
        var r = Row(name, "uintripc", transport, size, capacity, rate, repetition, producers);
        r["baseline"] = baseline;
        return r;
    }

    private static Dictionary<string, object?> C(string name, string transport, int size, int capacity, double rate, string pairedWith, int repetition)
    {
        var r = Row(name, "c", transport, size, capacity, rate, repetition, 1);
        r["paired_with"] = pairedWith;
        return r;
    }

    private static Dictionary<string, object?> Row(string name, string implementation, string transport, int size, int capacity, double rate, int repetition, int producers) => new()
    {
        ["name"] = name, ["kind"] = "throughput", ["implementation"] = implementation, ["transport"] = transport,
        ["message_size"] = size, ["producers"] = producers, ["capacity"] = capacity, ["batched"] = transport.EndsWith("-batched", StringComparison.Ordinal),
        ["count"] = 1_000_000, ["repetition"] = repetition,
        ["throughput"] = new Dictionary<string, double>
        {
            ["messages_per_second"] = rate, ["bytes_per_second"] = rate * size, ["nanoseconds_per_message"] = 1e9 / rate, ["elapsed_nanoseconds"] = 1e15 / rate,
        },
        ["cpu_ns_per_msg_sender"] = 10.0, ["cpu_ns_per_msg_receiver"] = 12.0,
    };

    private static string ReportFrom(IEnumerable<Dictionary<string, object?>> results) => HarnessRun.ReportFrom("sweep", results);
}
