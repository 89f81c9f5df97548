using System.Diagnostics;
using UintrIpc.Interop;

namespace UintrIpc.Signaling;

// Design:
//   The sender is a row of the shim's per-process sender table (an index, like a UITT
//   entry, uintr-abi.md §3.3) made from a receiver's vector fd, in this process or another
//   one after fd passing. Ring() is one SENDUIPI with the kernel index in RAX (§7): no
//   system call, no allocation, no feedback. In uintr-sim it is an atomic OR of the
//   vector's bit into the simulated UPID's PIR (a MAP_SHARED page of the receiver's memfd)
//   and, only when that sets ON, a FUTEX_WAKE (§3.4), so repeated rings before the receiver
//   runs cost no system call and coalesce.
//   Lifetime: the index is held by a SafeHandle; Ring takes a reference for the duration of
//   the send, so Dispose on another thread cannot unmap the simulated UPID under it.
//   Peer death: when the receiver is gone, rings are lost silently and fault nothing (real:
//   the kernel keeps the UPID allocated; sim: our mapping keeps the page, SN suppresses the
//   wake-up). A sender cannot tell; liveness is tracked elsewhere.

/// <summary>
/// The sending side of the user-interrupt doorbell: <see cref="Ring"/> executes SENDUIPI
/// for the vector of a <see cref="UintrDoorbellReceiver"/>, waking its thread without a
/// system call. With <c>simulated: true</c> it drives <b>uintr-sim</b>, the software
/// simulation (<see cref="DoorbellKind.UintrSimulated"/>).
/// </summary>
/// <remarks>
/// On variant C and D kernels the kernel's sender table is per thread, so ring from the
/// thread that created the sender (a dispose on another thread is handled: WatcherSenderReleases);
/// variant E allows any thread of the process.
/// </remarks>
[DebuggerDisplay("{ToString(),nq}")]
internal sealed class UintrDoorbellSender : DoorbellSender
{
    private readonly SafeUintrSenderHandle _index;

    /// <summary>Registers this process as a sender to the vector behind <paramref name="vectorFd"/>.</summary>
    /// <param name="vectorFd">A receiver's vector fd (<see cref="UintrDoorbellReceiver.VectorFd"/>, passed or inherited). It is
    /// not taken over and may be closed once the sender exists.</param>
    /// <param name="simulated">True for uintr-sim (the fd must come from a simulated receiver); false for the hardware.</param>
    /// <exception cref="PlatformNotSupportedException">Real mode and user interrupts are unavailable; the message is <see cref="UintrSupport.Reason"/>.</exception>
    /// <exception cref="UintrIpcException">Registration failed: ESHUTDOWN the receiver is gone, EOPNOTSUPP not a vector fd of this mode, ENOSPC table full.</exception>
    public UintrDoorbellSender(SafeFdHandle vectorFd, bool simulated = false)
    {
        ArgumentNullException.ThrowIfNull(vectorFd);
        if (!simulated)
        {
            var support = UintrSupport.Detect();
            if (!support.IsAvailable)
            {
                throw new PlatformNotSupportedException(support.Reason);
            }
        }

        bool added = false;
        int index;
        try
        {
            vectorFd.DangerousAddRef(ref added);
            index = Shim.UintrSenderRegister(vectorFd.Fd, simulated ? 1 : 0);
        }
        finally
        {
            if (added)
            {
                vectorFd.DangerousRelease();
            }
        }

        if (index < 0)
        {
            throw new UintrIpcException(simulated ? "uintr-sim register sender" : "uintr_register_sender", -index, Hint(-index, simulated));
        }

        _index = new SafeUintrSenderHandle(index);
        IsSimulated = simulated;
    }

    /// <inheritdoc />
    public override DoorbellKind Kind => IsSimulated ? DoorbellKind.UintrSimulated : DoorbellKind.Uintr;

    /// <summary>True when this sender drives uintr-sim, the software simulation, rather than hardware user interrupts.</summary>
    public bool IsSimulated { get; }

    /// <summary>
    /// Sends the user interrupt (SENDUIPI, or the simulated post). Never blocks, never allocates.
    /// Any thread: the first ring of a thread that did not create this sender prepares that
    /// thread once (two system calls; uintripc_uintr.h, UintrIpc_UintrSend).
    /// </summary>
    /// <exception cref="ObjectDisposedException">The sender was disposed.</exception>
    /// <exception cref="UintrIpcException">The calling thread could not be prepared to send (e.g. ENOSPC: the kernel's table of 256 senders is full), or EPERM on a kernel whose sender table is per thread and this is not the creating thread.</exception>
    public override void Ring()
    {
        bool added = false;
        try
        {
            _index.DangerousAddRef(ref added);
            int rc = Shim.UintrSend(_index.Index);
            if (rc != 0)
            {
                ThrowSendFailed(rc); // a live handle holds a registered index, so never EINVAL
            }
        }
        finally
        {
            if (added)
            {
                _index.DangerousRelease();
            }
        }
    }

    /// <summary>
    /// Simulation test hook: an empty notification (ON set and the receiver woken, no vector
    /// posted), which the sender/receiver race produces on hardware; the receiver must treat
    /// it as a spurious wake-up.
    /// </summary>
    internal void NotifyWithoutPostForTest()
    {
        if (!IsSimulated)
        {
            throw new InvalidOperationException("Only uintr-sim can raise an empty notification.");
        }

        bool added = false;
        try
        {
            _index.DangerousAddRef(ref added);
            _ = Shim.UintrSimNotifyWithoutPost(_index.Index);
        }
        finally
        {
            if (added)
            {
                _index.DangerousRelease();
            }
        }
    }

    /// <inheritdoc />
    public override string ToString() => IsSimulated
        ? "UintrDoorbellSender (uintr-sim: software simulation of user interrupts, not hardware)"
        : $"UintrDoorbellSender (hardware user interrupts, variant {UintrSupport.Detect().Variant})";

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _index.Dispose();
        }

        base.Dispose(disposing);
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void ThrowSendFailed(int rc) => throw new UintrIpcException("SENDUIPI (preparing this thread to send)", -rc,
        -rc == Tmds.Linux.LibC.EPERM ? "This kernel's user-interrupt sender table is per thread: ring from the thread that created the sender." : Hint(-rc, simulated: false));

    private static string? Hint(int errno, bool simulated)
    {
        if (errno == Tmds.Linux.LibC.ESHUTDOWN)
        {
            return "The receiver has gone (disposed, or its thread or process exited).";
        }

        if (errno == Tmds.Linux.LibC.EOPNOTSUPP)
        {
            return simulated
                ? "The fd is not a uintr-sim vector fd; it must come from a UintrDoorbellReceiver created with simulated: true."
                : "The fd is not a user-interrupt vector fd.";
        }

        return errno == Tmds.Linux.LibC.ENOSPC
            ? "The process's table of 256 user-interrupt senders is full (the kernel's limit per process): every writer of a channel whose doorbell " +
              "is Uintr (or UintrSimulated) in this process holds one until it (or its channel) is disposed. Dispose channels this process no longer " +
              "writes, or choose DoorbellKind.Futex for the others."
            : null;
    }
}
