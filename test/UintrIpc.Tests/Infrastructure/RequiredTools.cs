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
}
