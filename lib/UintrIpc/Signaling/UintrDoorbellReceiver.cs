using System.Diagnostics;
using UintrIpc.Interop;

namespace UintrIpc.Signaling;

// Design:
//   Who receives. The consumer thread that will wait is itself the receiver: it registers
//   its own handler (uintr-abi.md §2.1) and blocks in uintr_wait, which a SENDUIPI ends
//   directly (§8b, with UINTR_HANDLER_FLAG_WAITING_RECEIVER). That is the lowest-latency
//   arrangement: no second thread, no second kernel wake-up. The alternative, a library
//   thread that receives and forwards through ordinary .NET signalling, pays a kernel
//   wake-up again, and an ordinary .NET wait (Monitor, SemaphoreSlim, Thread.Sleep) is NOT
//   ended by a user interrupt (§8b). Consequences: construct the receiver on the consumer
//   thread, never on a thread-pool thread (registration and UIF belong to one OS thread,
//   and a pool thread goes on to run other work); call PrepareToWait/Wait/Poll and Dispose
//   on that thread, and dispose it before the thread exits. A thread that exits without
//   Dispose is unregistered by the shim on its way out (uintripc_uintr.h, "Thread exit");
//   the object then only frees the native state, from any thread.
//   Side effect on variant E: the handler is registered with WAITING_RECEIVER so that a
//   send ends uintr_wait; the kernel then also interrupts any other blocking system call
//   of this thread with EINTR when an interrupt arrives, without restart (§2.6, §6.9).
//   The runtime's own waits retry (§8b); native code called on this thread must too.
//   What the handler writes. The GPR-only C handler (interop/src/uintr_handler.c) only ORs
//   the vector's bit into a per-thread pending word (release) and counts the call; it runs
//   at any instruction boundary of this thread, also in JIT code (§8b), and never runs
//   managed code. Wait and Poll take the word with an atomic exchange in the shim
//   (acquire). One interrupt is a doorbell, not a message count: sends of one vector
//   coalesce (§3.4), so callers re-check their ring after every wake-up.
//   Lost wake-ups. The kernel can miss an interrupt that lands just before uintr_wait
//   sleeps; the shim waits in slices (200 us doubling to 3.2 ms) so that such a miss costs
//   one short slice instead of the whole wait (uintripc_uintr.h, UintrIpc_UintrWait).
//   Simulation. With simulated: true the same entry points run uintr-sim: the UPID is a
//   sealed memfd (its vector fds travel between processes like real ones), a send is an
//   atomic OR into the simulated PIR plus a FUTEX_WAKE when it sets ON, and the
//   "delivery" happens inside Wait/Poll on this thread. Nothing interrupts the thread.
//   Peer death. A sender that dies leaves nothing behind here. After Dispose, senders'
//   posts are lost silently (real: the kernel keeps the UPID; sim: SN is set), as on
//   hardware (§3.4); liveness is the channel's business.

/// <summary>
/// The receiving side of the user-interrupt doorbell: the calling thread registers a
/// user-interrupt handler and blocks in the user-interrupt wait until a
/// <see cref="UintrDoorbellSender"/> executes SENDUIPI for one of its vectors.
/// With <c>simulated: true</c> it runs <b>uintr-sim</b>, a software simulation of the same
/// semantics for machines without user interrupts (<see cref="DoorbellKind.UintrSimulated"/>).
/// </summary>
/// <remarks>
/// Create it on the consumer thread that will wait (not a thread-pool thread) and use and
/// dispose it only on that thread. Hand <see cref="VectorFd"/> to the producer (SCM_RIGHTS,
/// or inheritance after a dup without FD_CLOEXEC). One receiver per thread.
/// </remarks>
[DebuggerDisplay("{ToString(),nq}")]
internal sealed unsafe class UintrDoorbellReceiver : DoorbellReceiver
{
    /// <summary>Vectors per receiving thread: 0 to 63 (uintr-abi.md §2.1).</summary>
    public const int VectorCount = Shim.UintrVectorCount;

    private const long NanosecondsPerTick = 100;

    /// <summary>How long Dispose on another thread waits for an ended owner's OS thread to exit.</summary>
    private static readonly TimeSpan OwnerExitBound = TimeSpan.FromSeconds(10);

    /// <summary>Serialises <see cref="Dispose(bool)"/> with the readers that may run on other threads.</summary>
    private readonly Lock _lifetime = new();
    private readonly int _ownerManagedThreadId;
    private readonly Thread _owner;
    private readonly SafeFdHandle _vectorFd;
    private nint _handle; // 0 once disposed; written under _lifetime on the owner thread

    /// <summary>
    /// Registers the calling thread as a user-interrupt receiver and creates the fd of
    /// <paramref name="vector"/>.
    /// </summary>
    /// <param name="vector">The vector of <see cref="VectorFd"/>, 0 to 63 (63 has the highest priority).</param>
    /// <param name="simulated">True for uintr-sim, the software simulation; false for the hardware.</param>
    /// <exception cref="PlatformNotSupportedException">Real mode and user interrupts are unavailable; the message is <see cref="UintrSupport.Reason"/>.</exception>
    /// <exception cref="InvalidOperationException">Called on a thread-pool thread.</exception>
    /// <exception cref="UintrIpcException">Registration failed, e.g. EBUSY: this thread already has a receiver.</exception>
    public UintrDoorbellReceiver(int vector = 0, bool simulated = false)
    {
        ThrowIfBadVector(vector);
        if (!simulated)
        {
            var support = UintrSupport.Detect();
            if (!support.IsAvailable)
            {
                throw new PlatformNotSupportedException(support.Reason);
            }
        }

        if (Thread.CurrentThread.IsThreadPoolThread)
        {
            throw new InvalidOperationException(
                "A user-interrupt receiver belongs to the OS thread that creates it; create it on a dedicated consumer thread, not a thread-pool thread.");
        }

        nint handle;
        int rc = Shim.UintrReceiverCreate(simulated ? 1 : 0, &handle);
        if (rc < 0)
        {
            throw new UintrIpcException(simulated ? "uintr-sim receiver create" : "uintr_register_handler", -rc,
                -rc == Tmds.Linux.LibC.EBUSY
                    ? "This thread already has a user-interrupt receiver: it reads another channel whose doorbell is Uintr (or UintrSimulated), and a thread " +
                      "reads at most one such channel. Read this channel on another dedicated thread, dispose the other channel (or its reader) first, " +
                      "or choose DoorbellKind.Futex for one of them."
                    : null);
        }

        _handle = handle;
        IsSimulated = simulated;
        Vector = vector;
        _ownerManagedThreadId = Environment.CurrentManagedThreadId;
        _owner = Thread.CurrentThread;
        OSThreadId = Shim.UintrReceiverThreadId(handle);
        try
        {
            _vectorFd = OpenVectorFd(vector);
        }
        catch
        {
            _ = Shim.UintrReceiverDestroy(handle);
            _handle = 0;
            throw;
        }
    }

    /// <inheritdoc />
    public override DoorbellKind Kind => IsSimulated ? DoorbellKind.UintrSimulated : DoorbellKind.Uintr;

    /// <summary>True when this receiver runs uintr-sim, the software simulation, rather than hardware user interrupts.</summary>
    public bool IsSimulated { get; }

    /// <summary>The vector of <see cref="VectorFd"/>.</summary>
    public int Vector { get; }

    /// <summary>
    /// The fd a sender registers with (uintr vector fd, or in simulation the simulated UPID's
    /// memfd). Owned by the receiver and closed by <see cref="Dispose(bool)"/>; pass a copy to the producer.
    /// </summary>
    public SafeFdHandle VectorFd => _vectorFd;

    /// <summary>The OS thread id (gettid) of the receiving thread.</summary>
    public int OSThreadId { get; }

    /// <summary>
    /// Creates the fd of another vector of this receiver (same thread). The caller owns the
    /// returned handle. Variant D kernels refuse a vector that already has an fd (EBUSY).
    /// </summary>
    /// <param name="vector">0 to 63.</param>
    public SafeFdHandle OpenVectorFd(int vector)
    {
        ThrowIfBadVector(vector);
        nint handle = OwnerHandle();
        int fd = Shim.UintrVectorFd(handle, vector);
        if (fd < 0)
        {
            throw new UintrIpcException(IsSimulated ? "uintr-sim vector fd" : "uintr_vector_fd", -fd);
        }

        return new SafeFdHandle(fd, ownsHandle: true);
    }

    /// <summary>How many times the handler ran for <paramref name="vector"/> (coalesced sends count once). Any thread.</summary>
    public ulong HandlerCalls(int vector)
    {
        ThrowIfBadVector(vector);
        lock (_lifetime)
        {
            ObjectDisposedException.ThrowIf(_handle == 0, this);
            return Shim.UintrHandlerCalls(_handle, vector);
        }
    }

    /// <summary>
    /// Takes the vectors that arrived since the last take (bit v = vector v), without
    /// blocking; for a spinning consumer. In simulation this is where posted interrupts are
    /// delivered.
    /// </summary>
    public ulong Poll()
    {
        ulong vectors;
        int rc = Shim.UintrPoll(OwnerHandle(), &vectors);
        Debug.Assert(rc == 0, "the owner check passed, so the shim cannot refuse");
        return vectors;
    }

    /// <summary>
    /// Discards vectors that arrived before the consumer announces that it sleeps: the
    /// consumer re-checks its ring after announcing, which covers them, and a ring after
    /// the announcement sets a fresh bit that ends <see cref="Wait"/> at once (the pending
    /// word is level-triggered, so no token is needed).
    /// </summary>
    public override uint PrepareToWait()
    {
        _ = Poll();
        return 0;
    }

    /// <inheritdoc />
    /// <remarks>On the receiving thread only. The token is not used (see <see cref="PrepareToWait"/>).</remarks>
    public override bool Wait(uint token, TimeSpan timeout) => WaitForVectors(timeout) != 0;

    /// <summary>
    /// Blocks at most <paramref name="timeout"/> until a vector is pending and takes the
    /// pending vectors (bit v = vector v); 0 when the time ran out. On the receiving thread only.
    /// </summary>
    /// <remarks>
    /// Real path: check, uintr_wait, re-check. An interrupt that lands between the check and
    /// the wait syscall is only noticed when the wait ends (uintr-abi.md §8b), so keep
    /// timeouts bounded. Spurious wake-ups and signals are absorbed in the shim.
    /// </remarks>
    public ulong WaitForVectors(TimeSpan timeout)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(timeout, TimeSpan.Zero);
        nint handle = OwnerHandle();
        long nanoseconds = timeout.Ticks > long.MaxValue / NanosecondsPerTick ? long.MaxValue : timeout.Ticks * NanosecondsPerTick;
        ulong vectors;
        int rc = Shim.UintrWait(handle, nanoseconds, &vectors);
        if (rc < 0)
        {
            throw new UintrIpcException(IsSimulated ? "uintr-sim wait" : "uintr_wait", -rc);
        }

        return vectors;
    }

    /// <summary>
    /// Counters of the real path's waits (slices, expired slices, lost-wake-up hits and the
    /// worst slice one cost), and whether the receiving thread has exited. Any thread.
    /// </summary>
    internal Shim.UintrReceiverStats WaitStatistics()
    {
        lock (_lifetime)
        {
            ObjectDisposedException.ThrowIf(_handle == 0, this);
            Shim.UintrReceiverStats stats;
            _ = Shim.UintrReceiverStatsGet(_handle, &stats); // only fails for a null handle
            return stats;
        }
    }

    /// <summary>Counters of the simulated UPID (simulation only).</summary>
    internal Shim.UintrSimStats SimulationStats()
    {
        lock (_lifetime)
        {
            ObjectDisposedException.ThrowIf(_handle == 0, this);
            Shim.UintrSimStats stats;
            int rc = Shim.UintrSimStatsGet(_handle, &stats);
            if (rc < 0)
            {
                throw new InvalidOperationException("Simulation counters exist only for a simulated receiver.");
            }

            return stats;
        }
    }

    /// <inheritdoc />
    public override string ToString() => IsSimulated
        ? $"UintrDoorbellReceiver (uintr-sim: software simulation of user interrupts, not hardware) vector {Vector}, thread {OSThreadId}"
        : $"UintrDoorbellReceiver (hardware user interrupts, variant {UintrSupport.Detect().Variant}) vector {Vector}, thread {OSThreadId}";

    /// <summary>
    /// Unregisters the handler and closes <see cref="VectorFd"/>: on the receiving thread, or on
    /// any thread once the receiving thread has ended (the shim unregisters it at the OS thread's
    /// exit, which can follow <see cref="Thread.Join()"/> by a moment; Dispose waits for it).
    /// </summary>
    /// <exception cref="InvalidOperationException">Called on another thread while the receiving thread still runs: the registration cannot be undone from there.</exception>
    protected override void Dispose(bool disposing)
    {
        if (!disposing)
        {
            // No finalizer: from another thread the handler cannot be unregistered, and the
            // native state must outlive any delivery, so it is left to the thread's exit.
            return;
        }

        lock (_lifetime)
        {
            if (_handle == 0)
            {
                return;
            }

            // Release succeeds only once the receiving thread has exited (-EBUSY before).
            if (Shim.UintrReceiverRelease(_handle) < 0 && !ReleasedAfterOwnerExit())
            {
                ThrowIfNotOwnerThread();
                int rc = Shim.UintrReceiverDestroy(_handle);
                if (rc < 0)
                {
                    throw new UintrIpcException(IsSimulated ? "uintr-sim receiver destroy" : "uintr_unregister_handler", -rc);
                }
            }

            _handle = 0;
        }

        _vectorFd.Dispose();
        base.Dispose(disposing);
    }

    /// <summary>
    /// From another thread, after the owner's managed code ended (Thread.Join returned): its OS
    /// thread unregisters in its TLS destructors a moment later, so wait for that (bounded)
    /// instead of failing a Dispose that is correct.
    /// </summary>
    private bool ReleasedAfterOwnerExit()
    {
        if (Environment.CurrentManagedThreadId == _ownerManagedThreadId || _owner.IsAlive)
        {
            return false;
        }

        // The exit takes microseconds; the bound covers a descheduled thread on an emulated machine.
        var exiting = Stopwatch.StartNew();
        string task = $"/proc/self/task/{OSThreadId}";
        while (exiting.Elapsed < OwnerExitBound)
        {
            bool gone = !Directory.Exists(task);
            if (Shim.UintrReceiverRelease(_handle) >= 0)
            {
                return true;
            }

            if (gone)
            {
                return false; // exited without unregistering: let the caller report it
            }

            Thread.Sleep(1);
        }

        return false;
    }

    private static void ThrowIfBadVector(int vector)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(vector);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(vector, VectorCount);
    }

    /// <summary>The native handle, after checking that this is the receiving thread and the receiver is alive.</summary>
    private nint OwnerHandle()
    {
        // Plain read: only the owner thread writes _handle, and this is the owner thread.
        ThrowIfNotOwnerThread();
        nint handle = _handle;
        ObjectDisposedException.ThrowIf(handle == 0, this);
        return handle;
    }

    /// <inheritdoc />
    /// <remarks>As <see cref="Dispose(bool)"/> decides: any thread once the owner has exited (the release then succeeds).</remarks>
    internal override void ThrowIfForeignThread()
    {
        if (_owner.IsAlive)
        {
            ThrowIfNotOwnerThread();
        }
    }

    private void ThrowIfNotOwnerThread()
    {
        if (Environment.CurrentManagedThreadId != _ownerManagedThreadId)
        {
            // A user interrupt wakes only the thread that registered for it, so once that thread has
            // ended nobody can sleep on this receiver again: "wait on that thread" would be no advice.
            throw new InvalidOperationException(_owner.IsAlive
                ? $"This user-interrupt receiver belongs to OS thread {OSThreadId}; wait, poll and dispose on that thread."
                : $"This user-interrupt receiver belonged to OS thread {OSThreadId}, which has exited: a user interrupt wakes only the thread " +
                  "that registered for it, so no thread can wait on this reader any more (reads that find a message still work). Create the " +
                  "reader of a Uintr channel on a thread that outlives it, and dispose this channel.");
        }
    }
}
