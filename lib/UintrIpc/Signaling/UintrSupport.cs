using System.Text;
using UintrIpc.Interop;

namespace UintrIpc.Signaling;

/// <summary>
/// Whether Intel user interrupts (UINTR) can be used by this process, and if not, exactly
/// which check failed. Detection never executes a user-interrupt instruction or a syscall
/// number it has not identified from the kernel's symbol names (uintr-abi.md §5.1): it
/// checks the architecture, CPUID.(EAX=7,ECX=0):EDX[5], kernel evidence in /proc
/// (<c>/proc/kallsyms</c> symbol names, the <c>UIS:</c> row of <c>/proc/interrupts</c>,
/// the <c>uintr</c> flag of <c>/proc/cpuinfo</c> as a hint), and only then registers and
/// unregisters a handler on a dedicated thread.
/// </summary>
/// <remarks>
/// Mainline Linux has no user-interrupt syscalls; they exist only in out-of-tree kernels,
/// in incompatible variants (uintr-abi.md §1). Without them, use
/// <see cref="UintrDoorbellReceiver"/> with <c>simulated: true</c> (a software model, for
/// tests) or another doorbell.
/// </remarks>
internal sealed class UintrSupport
{
    private static readonly Lazy<UintrSupport> s_detected = new(Run, LazyThreadSafetyMode.ExecutionAndPublication);

    private UintrSupport(bool isAvailable, string reason, string? variant, UintrDetectionStep failedStep, int errno, int waitMode)
    {
        IsAvailable = isAvailable;
        Reason = reason;
        Variant = variant;
        FailedStep = failedStep;
        Errno = errno;
        WaitMode = waitMode;
    }

    /// <summary>True when the real user-interrupt doorbell can be used in this process.</summary>
    public bool IsAvailable { get; }

    /// <summary>
    /// Human-readable result that names the check that failed, e.g.
    /// "CPUID.(EAX=7,ECX=0):EDX[5] (UINTR) is 0: this CPU does not have user interrupts";
    /// when available, the variant and how waits block.
    /// </summary>
    public string Reason { get; }

    /// <summary>
    /// The kernel's syscall variant when it was identified (uintr-abi.md §1.1): "C" (Intel POC
    /// v2, syscalls 471-476), "D" (RFC v1, 449-454) or "E" (uintr-next, 471-479); otherwise null.
    /// </summary>
    public string? Variant { get; }

    /// <summary>The first detection step that failed, or <see cref="UintrDetectionStep.None"/>.</summary>
    public UintrDetectionStep FailedStep { get; }

    /// <summary>The errno of the registration probe when <see cref="FailedStep"/> is <see cref="UintrDetectionStep.Probe"/>; otherwise 0.</summary>
    public int Errno { get; }

    /// <summary>How the real path waits (Shim.UintrWait*), when available.</summary>
    internal int WaitMode { get; }

    /// <summary>Raw CPUID.(EAX=7,ECX=0):EDX as the shim read it (0 if not reached).</summary>
    internal uint CpuidLeaf7Edx { get; private init; }

    /// <summary>Kernel evidence bits (Shim.UintrEv*); gathered only when the CPU step passed.</summary>
    internal uint Evidence { get; private init; }

    /// <summary>Runs detection once per process and returns the cached result; thread-safe.</summary>
    public static UintrSupport Detect() => s_detected.Value;

    /// <summary>Returns <see cref="Reason"/>.</summary>
    public override string ToString() => Reason;

    /// <summary>
    /// The kernel-evidence step alone, on the given files (null = the /proc file), so that
    /// variant identification can be checked with synthetic files.
    /// </summary>
    internal static unsafe (uint Flags, string? Variant) InspectKernel(string? kallsyms, string? interrupts, string? cpuinfo)
    {
        Shim.UintrKernelEvidence evidence;
        _ = Shim.UintrInspectKernel(kallsyms, interrupts, cpuinfo, &evidence); // always 0
        return (evidence.Flags, VariantName(evidence.Variant));
    }

    private static unsafe UintrSupport Run()
    {
        Shim.UintrDetection d;
        _ = Shim.UintrDetect(&d); // the status is also in d
        // The shim NUL-terminates within the 256 bytes.
        var reasonBytes = new ReadOnlySpan<byte>(d.Reason, 256);
        int length = reasonBytes.IndexOf((byte)0);
        string reason = Encoding.UTF8.GetString(length < 0 ? reasonBytes : reasonBytes[..length]);
        return new UintrSupport(d.Status == 0, reason, VariantName(d.Variant), (UintrDetectionStep)d.FailedStep, d.Error, d.WaitMode)
        {
            CpuidLeaf7Edx = d.Cpuid70Edx,
            Evidence = d.Evidence,
        };
    }

    private static string? VariantName(int letter) => letter switch
    {
        'C' => "C",
        'D' => "D",
        'E' => "E",
        _ => null,
    };
}
