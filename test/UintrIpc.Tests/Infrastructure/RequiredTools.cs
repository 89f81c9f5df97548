namespace UintrIpc.Tests.Infrastructure;

/// <summary>
/// Tests that need a tool (strace, objdump, gcc) skip without it on a developer's machine, but
/// fail when UINTRIPC_REQUIRE_TOOLS=1: .ci/run installs the tools and sets it, so that a green
/// run always means these checks ran.
/// </summary>
public static class RequiredTools
{
    /// <summary>Whether the run requires every tool (UINTRIPC_REQUIRE_TOOLS=1).</summary>
    public static bool Required => Environment.GetEnvironmentVariable("UINTRIPC_REQUIRE_TOOLS") == "1";

    /// <summary>Skips the test when <paramref name="missing"/>, or fails it when the tools are required.</summary>
    /// <param name="missing">Whether the tool is missing or unusable.</param>
    /// <param name="reason">What is missing and how to get it.</param>
    public static void SkipWhenMissing(bool missing, string reason)
    {
        if (missing && Required)
        {
            Assert.Fail($"{reason}. UINTRIPC_REQUIRE_TOOLS=1 (set by .ci/run, which installs the tools) makes this a failure: a green run must mean this check ran.");
        }

        Assert.SkipWhen(missing, reason);
    }

    /// <summary>
    /// The path of a strace that can trace here (a trivial trace succeeds); skips the test (or fails
    /// it, see <see cref="Required"/>) when there is none or ptrace is not permitted.
    /// </summary>
    public static string Strace()
    {
        string? strace = s_stracePaths.FirstOrDefault(File.Exists);
        SkipWhenMissing(strace is null, "strace is not installed");
        using var probe = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo(strace!, "-qq -e trace=none /bin/true") { RedirectStandardError = true, UseShellExecute = false })!;
        string error = probe.StandardError.ReadToEnd();
        if (!probe.WaitForExit(10_000))
        {
            probe.Kill();
            SkipWhenMissing(true, "strace did not finish a trivial trace within 10 s");
        }

        SkipWhenMissing(probe.ExitCode != 0, $"strace cannot trace here (ptrace not permitted?): {error.Trim()}");
        return strace!;
    }

    private static readonly string[] s_stracePaths = ["/usr/bin/strace", "/bin/strace", "/usr/local/bin/strace"];
}
