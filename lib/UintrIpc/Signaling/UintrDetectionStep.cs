namespace UintrIpc.Signaling;

/// <summary>
/// The steps of user-interrupt detection, in the order they run (uintr-abi.md §5.1); the
/// first that fails is reported by <see cref="UintrSupport.FailedStep"/>.
/// </summary>
internal enum UintrDetectionStep
{
    /// <summary>No step failed: user interrupts are available.</summary>
    None = 0,

    /// <summary>The process is not x86-64.</summary>
    Architecture = 1,

    /// <summary>CPUID.(EAX=7,ECX=0):EDX[5] (UINTR) is 0, or CPUID leaf 7 does not exist.</summary>
    Cpu = 2,

    /// <summary>
    /// The kernel shows no user-interrupt syscalls in /proc/kallsyms (mainline Linux has none),
    /// or its syscall variant cannot be identified, so no syscall number is tried.
    /// </summary>
    Kernel = 3,

    /// <summary>The kernel has the syscalls but registering a handler on a probe thread failed (feature disabled).</summary>
    Probe = 4,
}
