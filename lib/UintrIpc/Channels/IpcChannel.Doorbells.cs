using UintrIpc.Signaling;

namespace UintrIpc.Channels;

public static partial class IpcChannel
{
    /// <summary>
    /// The doorbell a channel gets when <see cref="IpcChannelOptions.Doorbell"/> is null: futex
    /// (then eventfd, then none, should a sandbox block futex). Never a thread-bound doorbell, so
    /// the default channel supports every API: async reads, readers on any thread, and no effect
    /// on the reader thread's other system calls. A process deployed without the native shim
    /// (libuintripc.so, beside the application) has no futex doorbell and gets no fallback either:
    /// creating a channel with the default throws <see cref="PlatformNotSupportedException"/> saying what to deploy.
    /// </summary>
    /// <remarks>
    /// <para>User interrupts (<see cref="DoorbellKind.Uintr"/>) are never chosen by default, even
    /// where they work: the receiver belongs to the OS thread that created the reader (no
    /// thread-pool threads, no async reads), and while it is registered the kernel ends that
    /// thread's other blocking system calls with EINTR when an interrupt arrives
    /// (UINTR_HANDLER_FLAG_WAITING_RECEIVER, needed for uintr_wait to be woken). Choose it
    /// explicitly with <c>IpcChannelOptions.Doorbell = DoorbellKind.Uintr</c> for a dedicated
    /// reader thread that reads with the blocking methods. Its benefit, a writer that wakes a
    /// sleeping reader without a system call, has been verified functionally on an emulated
    /// uintr machine only; there are no timings from real hardware.</para>
    /// <para>The uintr simulation is never chosen.</para>
    /// </remarks>
    public static DoorbellKind DefaultDoorbell => Doorbells.Best;

    /// <summary>
    /// Whether <paramref name="kind"/> works on this machine, as a quick functional self-test
    /// found it (each kind is tested on first use and the verdict kept for the process; a
    /// self-test that ran out of time on a busy machine reports false and runs again on the next call).
    /// </summary>
    /// <param name="kind">The doorbell to check.</param>
    /// <param name="reason">
    /// What the self-test found: why <paramref name="kind"/> is unavailable (for example which
    /// check for user interrupts failed), or what was verified.
    /// </param>
    /// <returns>True when a channel created with <paramref name="kind"/> can wake its reader here.</returns>
    public static bool IsDoorbellAvailable(DoorbellKind kind, out string reason)
    {
        DoorbellCapability capability = Doorbells.Check(kind);
        reason = capability.Reason;
        return capability.IsAvailable;
    }
}
