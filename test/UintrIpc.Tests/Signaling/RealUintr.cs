using UintrIpc.Signaling;

namespace UintrIpc.Tests.Signaling;

/// <summary>
/// The tests of the hardware user-interrupt path. They carry the trait
/// <c>Uintr=Real</c> (<see cref="TraitName"/>, <see cref="TraitValue"/>), which the emulated-uintr
/// job of .ci/run selects inside the lab machine (uintr-lab), and they skip with the
/// detection reason where user interrupts are unavailable. With
/// <c>UINTRIPC_REQUIRE_UINTR=1</c> (set by that job) they fail instead of skipping, so the job
/// cannot pass without running them. Where the lab is absent, the job runs them with
/// <c>UINTRIPC_UINTR_LAB_ABSENT</c> set to its reason, and each skips with that reason.
/// </summary>
internal static class RealUintr
{
    public const string TraitName = "Uintr";
    public const string TraitValue = "Real";

    /// <summary>The environment variable that turns "skip: no user interrupts" into a failure.</summary>
    public const string RequireVariable = "UINTRIPC_REQUIRE_UINTR";

    /// <summary>Set by the job where the emulated machine is absent: the skip reason of these tests.</summary>
    public const string LabAbsentVariable = "UINTRIPC_UINTR_LAB_ABSENT";

    public static bool IsRequired => Environment.GetEnvironmentVariable(RequireVariable) == "1";

    /// <summary>Skips (or, when required, fails) unless the real user-interrupt path works here.</summary>
    public static void SkipUnlessAvailable()
    {
        string? absent = Environment.GetEnvironmentVariable(LabAbsentVariable);
        Assert.SkipWhen(!string.IsNullOrEmpty(absent), absent ?? "");
        var support = UintrSupport.Detect();
        if (!support.IsAvailable && IsRequired)
        {
            Assert.Fail($"{RequireVariable}=1 but user interrupts are unavailable: {support.Reason}");
        }

        Assert.SkipUnless(support.IsAvailable, support.Reason);
    }

    /// <summary>
    /// The skip of the channel tests: <paramref name="kind"/> must pass its check; for
    /// <see cref="DoorbellKind.Uintr"/> the rule of <see cref="SkipUnlessAvailable"/> applies.
    /// </summary>
    public static void SkipUnlessDoorbellAvailable(DoorbellKind kind)
    {
        if (kind == DoorbellKind.Uintr)
        {
            SkipUnlessAvailable();
        }

        Assert.SkipUnless(Doorbells.IsAvailable(kind), Doorbells.Check(kind).ToString());
    }
}
