using System.Globalization;
using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.Bench;

/// <summary>
/// The clock of the latency samples moves in steps (10 ns on the AMD host), so a round trip of
/// 124 ns reads as 120 or 130 ns; both harnesses interpolate their percentiles within the step,
/// the same way, so that a .NET p50 and a C p50 can be compared finer than the step.
/// </summary>
public sealed class ClockStepPercentileTests
{
    [Fact]
    public void Both_harnesses_find_a_round_trip_between_two_clock_steps_and_agree()
    {
        // 124 ns read on a clock of 10.015 ns steps (26 TSC ticks at 2.596 GHz) from random phases:
        // 120/121 or 130/131, as the samples of the real ping-pongs.
        const double Step = 10.015, Length = 124;
        var random = new Random(11);
        var lines = Enumerable.Range(0, 100_000).Select(_ =>
        {
            double start = random.NextDouble() * 10_000;
            long read = (long)Math.Round(Math.Floor((start + Length) / Step) * Step) - (long)Math.Round(Math.Floor(start / Step) * Step);
            return read.ToString(CultureInfo.InvariantCulture);
        });
        string file = Path.Combine(Path.GetTempPath(), $"uintripc-percentiles-{Environment.ProcessId}-{Guid.NewGuid():N}.txt");
        try
        {
            File.WriteAllLines(file, lines);
            string native = RepositoryFiles.Path("bench", "native", "build", "uintripc-native-bench");
            string harness = Path.Combine(RepositoryFiles.Path("bench", "UintrIpc.Bench", "bin", RepositoryFiles.Configuration), "net10.0", "UintrIpc.Bench.dll");
            var c = ExternalProgram.Run(ExternalProgram.StartInfo(native, "--percentiles", "10", file));
            var net = ExternalProgram.Run(ExternalProgram.StartInfo("dotnet", harness, "--percentiles", "10", file));
            Assert.True(c.ExitCode == 0, c.ToString());
            Assert.True(net.ExitCode == 0, net.ToString());
            Assert.Equal(c.StandardOutput.Trim(), net.StandardOutput.Trim());
            double p50 = double.Parse(c.StandardOutput.Split(' ')[0], CultureInfo.InvariantCulture);
            Assert.InRange(p50, Length - 1.5, Length + 1.5); // nearest rank: 120
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void Both_harnesses_read_a_fine_clock_as_fine_and_a_stepped_one_as_its_step_despite_preempted_pairs()
    {
        // What the start-up measurement sees: 40,000 pairs of reads a few hundred ns apart, and
        // some (a loaded host: 5-14 in a run here) preempted far beyond them. A fine clock (bare
        // metal) reads every ns value; the AMD VM's only steps of 10.015 ns. A fine clock taken for
        // a stepped one moves p90 by up to 0.4 of the step it was taken for (interpolation assumes
        // the bin's samples spread over the step), so its step must come out below 2.
        var random = new Random(7);
        long[] Pairs(Func<double, long> read) => [.. Enumerable.Range(0, 40_000).Select(_ => read(20 + (random.NextDouble() * 260))),
            .. Enumerable.Range(0, 12).Select(_ => (long)random.Next(400, 4000))];
        long[] fine = Pairs(d => (long)Math.Round(d));
        long[] stepped = Pairs(d =>
        {
            double start = random.NextDouble() * 10_000;
            return (long)Math.Round(Math.Floor((start + d) / 10.015) * 10.015) - (long)Math.Round(Math.Floor(start / 10.015) * 10.015);
        });

        Assert.Equal(("1.0", "1.0"), StepsOf(fine));
        Assert.Equal(("10.0", "10.0"), StepsOf(stepped));
    }

    /// <summary>The step each harness finds in <paramref name="differences"/> (C, .NET).</summary>
    private static (string C, string Net) StepsOf(long[] differences)
    {
        string file = Path.Combine(Path.GetTempPath(), $"uintripc-clock-step-{Environment.ProcessId}-{Guid.NewGuid():N}.txt");
        try
        {
            File.WriteAllLines(file, differences.Select(d => d.ToString(CultureInfo.InvariantCulture)));
            string native = RepositoryFiles.Path("bench", "native", "build", "uintripc-native-bench");
            string harness = Path.Combine(RepositoryFiles.Path("bench", "UintrIpc.Bench", "bin", RepositoryFiles.Configuration), "net10.0", "UintrIpc.Bench.dll");
            var c = ExternalProgram.Run(ExternalProgram.StartInfo(native, "--clock-step", file));
            var net = ExternalProgram.Run(ExternalProgram.StartInfo("dotnet", harness, "--clock-step", file));
            Assert.True(c.ExitCode == 0, c.ToString());
            Assert.True(net.ExitCode == 0, net.ToString());
            return (c.StandardOutput.Trim(), net.StandardOutput.Trim());
        }
        finally
        {
            File.Delete(file);
        }
    }
}
