namespace UintrIpc.Cli.Info;

/// <summary>What `uintr-ipc info` reports (also its JSON shape).</summary>
/// <param name="Kernel">The kernel release (uname -r).</param>
/// <param name="Architecture">The process architecture.</param>
/// <param name="CpuModel">The CPU model name from /proc/cpuinfo, if it has one.</param>
/// <param name="LogicalCpus">Logical CPUs this process may run on.</param>
/// <param name="UserInterrupts">User-interrupt support and the exact reason.</param>
/// <param name="Doorbells">Every doorbell kind, with its self-test result.</param>
/// <param name="BestDoorbell">The doorbell a channel uses by default here.</param>
/// <param name="Memory">Page sizes and huge pages.</param>
/// <param name="NativeShim">Where libuintripc.so was loaded from.</param>
internal sealed record MachineReport(
    string Kernel,
    string Architecture,
    string? CpuModel,
    int LogicalCpus,
    UserInterruptReport UserInterrupts,
    IReadOnlyList<DoorbellReport> Doorbells,
    string BestDoorbell,
    MemoryReport Memory,
    string? NativeShim);

/// <summary>User-interrupt detection (UintrSupport), step by step.</summary>
/// <param name="Available">Whether the real user-interrupt doorbell works in this process.</param>
/// <param name="Reason">What detection found, naming the check that failed.</param>
/// <param name="FailedStep">The first failed step (None, Architecture, Cpu, Kernel, Probe).</param>
/// <param name="CpuSupported">Whether the CPU reports UINTR (CPUID.(EAX=7,ECX=0):EDX[5]); null when the architecture step failed first.</param>
/// <param name="KernelVariant">The uintr kernel ABI variant letter (C, D or E), when identified.</param>
/// <param name="KernelVariantDescription">What the variant is (uintr-abi.md §1.1).</param>
/// <param name="Errno">The errno of the registration probe, when that step failed.</param>
internal sealed record UserInterruptReport(
    bool Available,
    string Reason,
    string FailedStep,
    bool? CpuSupported,
    string? KernelVariant,
    string? KernelVariantDescription,
    int Errno);

/// <summary>One doorbell kind on this machine.</summary>
/// <param name="Kind">The DoorbellKind name.</param>
/// <param name="Available">Whether its self-test passed.</param>
/// <param name="Reason">What the self-test found.</param>
internal sealed record DoorbellReport(string Kind, bool Available, string Reason);

/// <summary>Page sizes and huge pages.</summary>
/// <param name="PageSize">The base page size in bytes.</param>
/// <param name="HugePageSizes">Each huge page size the kernel offers, with its pool.</param>
/// <param name="TransparentHugePages">The THP mode (/sys/kernel/mm/transparent_hugepage/enabled), or null.</param>
/// <param name="HugePagesAvailable">Whether huge pages can back memory now (a pool with free pages, or THP not "never").</param>
/// <param name="SharedMemoryFreeBytes">Free bytes in /dev/shm, where named regions live.</param>
internal sealed record MemoryReport(
    int PageSize,
    IReadOnlyList<HugePagePool> HugePageSizes,
    string? TransparentHugePages,
    bool HugePagesAvailable,
    long? SharedMemoryFreeBytes);

/// <summary>One hugetlb pool (/sys/kernel/mm/hugepages/hugepages-NkB).</summary>
/// <param name="SizeBytes">The page size.</param>
/// <param name="Total">Pages in the pool.</param>
/// <param name="Free">Pages not in use.</param>
internal sealed record HugePagePool(long SizeBytes, long Total, long Free);
