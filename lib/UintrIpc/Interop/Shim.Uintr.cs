using System.Runtime.InteropServices;

namespace UintrIpc.Interop;

// The user-interrupt doorbell of the shim: interop/include/uintripc_uintr.h. Every entry
// point returns -errno on failure and handles EINTR itself. Only Send and Poll suppress the
// GC transition: they never block. Waits, registration and detection (which reads /proc
// and starts a thread) keep it.
internal static partial class Shim
{
    /// <summary>Results of <see cref="UintrWait"/>.</summary>
    internal const int UintrWoken = 0, UintrTimedOut = 1;

    /// <summary>Number of vectors of one receiving thread (uintr-abi.md §2.1).</summary>
    internal const int UintrVectorCount = 64;

    /// <summary>Kernel evidence bits (UIPC_UINTR_EV_*).</summary>
    internal const uint UintrEvKallsymsRead = 0x01, UintrEvSymVectorFd = 0x02, UintrEvSymCreateFd = 0x04,
        UintrEvSymFutexWaitv = 0x08, UintrEvInterruptsUis = 0x10, UintrEvCpuinfoFlag = 0x20,
        UintrEvInterruptsRead = 0x40, UintrEvCpuinfoRead = 0x80, UintrEvSym471Taken = 0x100;

    /// <summary>Wait modes of the real path (enum uipc_uintr_wait_mode).</summary>
    internal const int UintrWaitNone = 0, UintrWaitSyscall = 1, UintrWaitSliced = 2;

    /// <summary>Mirror of struct uipc_uintr_detection (288 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal unsafe struct UintrDetection
    {
        internal int Status;
        internal int FailedStep;
        internal int Variant;
        internal int Error;
        internal uint CpuidMaxLeaf;
        internal uint Cpuid70Edx;
        internal uint Evidence;
        internal int WaitMode;
        internal fixed byte Reason[256];
    }

    /// <summary>Mirror of struct uipc_uintr_kernel_evidence.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct UintrKernelEvidence
    {
        internal uint Flags;
        internal int Variant;
    }

    /// <summary>Mirror of struct uipc_uintr_sim_stats.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct UintrSimStats
    {
        internal ulong Posts;
        internal ulong Notifications;
        internal ulong Deliveries;
        internal ulong SpuriousWakeups;
        internal ulong Pir;
        internal uint Status;
        internal uint Reserved;
        internal ulong WakeWordAddress;
    }

    /// <summary>Mirror of struct uipc_uintr_receiver_stats (48 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct UintrReceiverStats
    {
        internal ulong Waits;
        internal ulong WaitSyscalls;
        internal ulong SlicesExpired;
        internal ulong LateWakeups;
        internal ulong LateMaxSliceNanoseconds;
        internal uint ThreadExited;
        internal uint Reserved;
    }

    /// <summary>First slice of a real-path wait (UIPC_UINTR_FIRST_SLICE_NS): the worst cost of a lost wake-up in the racing case.</summary>
    internal const long UintrFirstSliceNanoseconds = 200_000;

    /// <summary>Longest slice of a real-path wait (UIPC_UINTR_MAX_SLICE_NS): the worst cost of any lost wake-up.</summary>
    internal const long UintrMaxSliceNanoseconds = 16 * UintrFirstSliceNanoseconds;

    /// <summary>Runs (once) and copies the cached detection; returns its status (0 = available).</summary>
    [LibraryImport(Libraries.Shim, EntryPoint = "UintrIpc_UintrDetect")]
    internal static unsafe partial int UintrDetect(UintrDetection* result);

    /// <summary>The kernel-evidence step alone, on the given files (null = the /proc file).</summary>
    [LibraryImport(Libraries.Shim, EntryPoint = "UintrIpc_UintrInspectKernel", StringMarshalling = StringMarshalling.Utf8)]
    internal static unsafe partial int UintrInspectKernel(string? kallsyms, string? interrupts, string? cpuinfo, UintrKernelEvidence* result);

    /// <summary>Creates the calling thread's receiver (simulated != 0: uintr-sim).</summary>
    [LibraryImport(Libraries.Shim, EntryPoint = "UintrIpc_UintrReceiverCreate")]
    internal static unsafe partial int UintrReceiverCreate(int simulated, nint* handle);

    /// <summary>Unregisters and frees a receiver; on its own thread only.</summary>
    [LibraryImport(Libraries.Shim, EntryPoint = "UintrIpc_UintrReceiverDestroy")]
    internal static partial int UintrReceiverDestroy(nint handle);

    /// <summary>Frees a receiver whose thread has exited (any thread); -EBUSY while that thread runs.</summary>
    [LibraryImport(Libraries.Shim, EntryPoint = "UintrIpc_UintrReceiverRelease")]
    internal static partial int UintrReceiverRelease(nint handle);

    /// <summary>Wait counters of a receiver (any thread while it exists).</summary>
    [LibraryImport(Libraries.Shim, EntryPoint = "UintrIpc_UintrReceiverStats")]
    internal static unsafe partial int UintrReceiverStatsGet(nint handle, UintrReceiverStats* stats);

    /// <summary>Creates the fd of one vector (O_CLOEXEC); returns it or -errno.</summary>
    [LibraryImport(Libraries.Shim, EntryPoint = "UintrIpc_UintrVectorFd")]
    internal static partial int UintrVectorFd(nint handle, int vector);

    /// <summary>Bounded wait for a pending vector: <see cref="UintrWoken"/> (bits taken), <see cref="UintrTimedOut"/>, or -errno.</summary>
    /// <remarks>Blocks: keeps the GC transition.</remarks>
    [LibraryImport(Libraries.Shim, EntryPoint = "UintrIpc_UintrWait")]
    internal static unsafe partial int UintrWait(nint handle, long timeoutNanoseconds, ulong* vectors);

    /// <summary>Takes pending vectors without blocking (in simulation, delivers posted ones first).</summary>
    /// <remarks>A few loads and at most a few locked instructions: the GC transition is suppressed.</remarks>
    [LibraryImport(Libraries.Shim, EntryPoint = "UintrIpc_UintrPoll")]
    [SuppressGCTransition]
    internal static unsafe partial int UintrPoll(nint handle, ulong* vectors);

    /// <summary>Handler calls so far for one vector.</summary>
    [LibraryImport(Libraries.Shim, EntryPoint = "UintrIpc_UintrHandlerCalls")]
    internal static partial ulong UintrHandlerCalls(nint handle, int vector);

    /// <summary>The OS thread id (gettid) of the receiving thread.</summary>
    [LibraryImport(Libraries.Shim, EntryPoint = "UintrIpc_UintrReceiverThreadId")]
    internal static partial int UintrReceiverThreadId(nint handle);

    /// <summary>Counters of a simulated receiver; -EINVAL for a real one.</summary>
    [LibraryImport(Libraries.Shim, EntryPoint = "UintrIpc_UintrSimStats")]
    internal static unsafe partial int UintrSimStatsGet(nint handle, UintrSimStats* stats);

    /// <summary>Registers a sender for the vector behind <paramref name="vectorFd"/>; returns an index or -errno.</summary>
    [LibraryImport(Libraries.Shim, EntryPoint = "UintrIpc_UintrSenderRegister")]
    internal static partial int UintrSenderRegister(int vectorFd, int simulated);

    /// <summary>Releases a sender index; -EPERM (entry kept, no system call) for a per-task index (C, D) on another thread.</summary>
    [LibraryImport(Libraries.Shim, EntryPoint = "UintrIpc_UintrSenderUnregister")]
    internal static partial int UintrSenderUnregister(int index);

    /// <summary>Frees a per-task entry without the kernel's unregistration (its connection ends with the vector file).</summary>
    [LibraryImport(Libraries.Shim, EntryPoint = "UintrIpc_UintrSenderAbandon")]
    internal static partial int UintrSenderAbandon(int index);

    /// <summary>Kernel sender registrations of the shim's table not yet unregistered.</summary>
    [LibraryImport(Libraries.Shim, EntryPoint = "UintrIpc_UintrSenderKernelRegistrations")]
    internal static partial long UintrSenderKernelRegistrations();

    /// <summary>Test only: senders registered from now on are per task (as on C and D) whatever the variant.</summary>
    [LibraryImport(Libraries.Shim, EntryPoint = "UintrIpc_UintrTestSendersPerTask")]
    internal static partial void UintrTestSendersPerTask(int on);

    /// <summary>SENDUIPI (or the simulated post). Returns 0 or -errno.</summary>
    /// <remarks>One instruction on the real path, a few locked instructions and at most one FUTEX_WAKE in
    /// simulation; never blocks, so the GC transition is suppressed. The first send of a thread
    /// that did not register the sender adds two short, non-blocking system calls, once per thread.</remarks>
    [LibraryImport(Libraries.Shim, EntryPoint = "UintrIpc_UintrSend")]
    [SuppressGCTransition]
    internal static partial int UintrSend(int index);

    /// <summary>Simulation test hook: an empty notification (ON set and receiver woken, no bit posted).</summary>
    [LibraryImport(Libraries.Shim, EntryPoint = "UintrIpc_UintrSimNotifyWithoutPost")]
    internal static partial int UintrSimNotifyWithoutPost(int index);
}
