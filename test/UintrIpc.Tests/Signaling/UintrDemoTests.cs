using System.Text.RegularExpressions;
using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.Signaling;

/// <summary>The demo (samples/UintrIpc.Demo) end to end with the hardware uintr doorbell: two processes, every phase.</summary>
[Trait(RealUintr.TraitName, RealUintr.TraitValue)]
[Collection(CrossProcessCollection.Name)]
public sealed partial class UintrDemoTests(ITestOutputHelper output)
{
    [Fact]
    public void The_demo_runs_every_phase_with_the_uintr_doorbell()
    {
        RealUintr.SkipUnlessAvailable();
        string demo = Path.Combine(AppContext.BaseDirectory, "UintrIpc.Demo.dll");
        Assert.True(File.Exists(demo), $"{demo} is missing (the test project references the demo)");

        var (exitCode, stdout, stderr) = RunWithProgressTimeout(["dotnet", demo, "uintr", "--quick"], TimeSpan.FromSeconds(120));
        output.WriteLine(stdout);
        output.WriteLine(stderr);
        Assert.Equal(0, exitCode);
        Assert.Contains("Using: Uintr (asked for)", stdout, StringComparison.Ordinal);
        Assert.Contains("Ping-pong, awake", stdout, StringComparison.Ordinal);
        Assert.Contains("Ping-pong, sleeping", stdout, StringComparison.Ordinal);
        Assert.Contains("One-way stream", stdout, StringComparison.Ordinal);
        Assert.Contains("Done.", stdout, StringComparison.Ordinal);

        // The sleeping phase really used the doorbell: both consumers slept and were woken by SENDUIPI.
        string sleeping = stdout[stdout.IndexOf("Ping-pong, sleeping", StringComparison.Ordinal)..];
        var sent = WakeupsSent().Match(sleeping);
        Assert.True(sent.Success, "no wake-up line in the sleeping phase");
        Assert.True(long.Parse(sent.Groups[1].Value) > 0 && long.Parse(sent.Groups[2].Value) > 0, sent.Value);
    }

    /// <summary>
    /// Runs a program and waits for it, killing it once it has printed nothing for
    /// <paramref name="quiet"/>: the bound is measured from the last progress, not the start
    /// (the emulated machine is 10-100x slower than hardware).
    /// </summary>
    private static (int ExitCode, string StandardOutput, string StandardError) RunWithProgressTimeout(string[] command, TimeSpan quiet)
    {
        var stdout = new System.Text.StringBuilder();
        var stderr = new System.Text.StringBuilder();
        long lastProgress = System.Diagnostics.Stopwatch.GetTimestamp();
        var psi = new System.Diagnostics.ProcessStartInfo(command[0]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        command.Skip(1).ToList().ForEach(psi.ArgumentList.Add);
        using var process = new System.Diagnostics.Process { StartInfo = psi };
        void OnLine(System.Text.StringBuilder sb, string? line)
        {
            if (line is not null)
            {
                lock (sb)
                {
                    sb.AppendLine(line);
                }

                Volatile.Write(ref lastProgress, System.Diagnostics.Stopwatch.GetTimestamp());
            }
        }

        process.OutputDataReceived += (_, e) => OnLine(stdout, e.Data);
        process.ErrorDataReceived += (_, e) => OnLine(stderr, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            while (!process.WaitForExit(1000))
            {
                Assert.True(System.Diagnostics.Stopwatch.GetElapsedTime(Volatile.Read(ref lastProgress)) < quiet,
                    $"the demo printed nothing for {quiet.TotalSeconds} s. stdout so far:\n{stdout}\nstderr:\n{stderr}");
            }

            process.WaitForExit(); // drains the output readers
            return (process.ExitCode, stdout.ToString(), stderr.ToString());
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(5000);
            }
        }
    }

    [GeneratedRegex(@"wake-ups\s+sent (\d+) \+ (\d+),")]
    private static partial Regex WakeupsSent();
}
