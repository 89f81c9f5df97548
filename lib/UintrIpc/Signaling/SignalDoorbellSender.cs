using System.Runtime.InteropServices;
using Tmds.Linux;
using UintrIpc.Interop;

namespace UintrIpc.Signaling;

/// <summary>
/// The producer's side of the signal doorbell: tgkill of the consumer's real-time signal to the
/// consumer THREAD (never to the whole process; see <see cref="SignalDoorbellReceiver"/>).
/// </summary>
/// <remarks>
/// <para>
/// The wait block names the consumer's pid and thread, but shared memory is not trusted: the
/// process comes from a trusted source instead, and the sender refuses any other target
/// (uintripc.h section 3, the signal doorbell). Consumer in this process: the thread must host a
/// live <see cref="SignalDoorbellReceiver"/> of this signal (we know our own receivers). Consumer
/// in another process: the process is the one the caller names with a pidfd (from the bootstrap
/// connection's peer credentials, a child it started, or the consumer's
/// <see cref="SignalDoorbellReceiver.ProcessFd"/>), the wait block must name that same process,
/// and the process must be alive (its pidfd says so: a pid alone could have been reused); the
/// thread id is passed to tgkill with that process, so the kernel refuses a thread of any other.
/// A refused ring sends nothing (the consumer wakes at its park timeout) and is counted in
/// <see cref="RefusedRings"/>. The residual risk: a peer that can write the wait block can
/// direct the signal at another thread of the consumer's process (see uintripc.h section 3).
/// </para>
/// <para>Permission rules of kill(2) apply: the consumer must run as the same user (or we need CAP_KILL);
/// a sender for another process checks that when it is made (signal 0), so a handover refuses it.</para>
/// </remarks>
internal sealed class SignalDoorbellSender : DoorbellSender
{
    private readonly WaitBlock _waitBlock;
    private readonly ProcessHandle? _consumer;
    private long _refused;

    /// <summary>Creates a sender for a consumer in this process.</summary>
    /// <param name="waitBlock">The consumer's wait block, where its thread is published.</param>
    /// <param name="signalNumber">The consumer's signal (its <see cref="SignalDoorbellReceiver.SignalNumber"/>), or 0 for the default.</param>
    public SignalDoorbellSender(WaitBlock waitBlock, int signalNumber = 0)
        : this(waitBlock, consumer: null, signalNumber)
    {
    }

    /// <summary>Creates a sender for a consumer in the process <paramref name="consumerProcess"/> names.</summary>
    /// <param name="waitBlock">The consumer's wait block, where its thread is published.</param>
    /// <param name="consumerProcess">A pidfd of the consumer's process, from a source the caller trusts; the sender keeps its own duplicate.</param>
    /// <param name="signalNumber">The consumer's signal, or 0 for the default.</param>
    /// <exception cref="ArgumentException"><paramref name="consumerProcess"/> is not a pidfd of a live process.</exception>
    /// <exception cref="UintrIpcException">EPERM: this process may not signal the consumer's (another user's).</exception>
    public SignalDoorbellSender(WaitBlock waitBlock, SafeHandle consumerProcess, int signalNumber = 0)
        : this(waitBlock, ProcessHandle.FromPidFd(consumerProcess), signalNumber)
    {
    }

    /// <summary>A sender for the consumer in <paramref name="consumer"/> (null: this process); takes ownership of the handle.</summary>
    internal SignalDoorbellSender(WaitBlock waitBlock, ProcessHandle? consumer, int signalNumber = 0)
    {
        ArgumentNullException.ThrowIfNull(waitBlock);
        int min = Sys.SigRtMin() + 1, max = Sys.SigRtMax();
        int signal = signalNumber == 0 ? SignalDoorbellReceiver.DefaultSignalNumber : signalNumber;
        if (signal < min || signal > max)
        {
            consumer?.Dispose();
            throw new ArgumentOutOfRangeException(nameof(signalNumber), signalNumber, $"Use a real-time signal between {min} and {max}, the one the consumer blocks.");
        }

        if (consumer is { IsThisProcess: false } && Sys.TgKill(consumer.Pid, consumer.Pid, 0) != 0 && LibC.errno == LibC.EPERM && !consumer.HasExited)
        {
            // Signal 0 checks kill(2)'s permission and sends nothing: refuse at the handover rather
            // than at the first ring, which would come after that write had published its message.
            // Only while the pidfd's process lives (looked at after the EPERM, so it lived at the
            // tgkill and held its pid): a handover's pidfd may be of a peer gone since, whose pid
            // may name another user's process by now; its rings are skipped (Ring) instead.
            consumer.Dispose();
            throw new UintrIpcException($"tgkill({consumer.Pid}, {consumer.Pid}, 0)", LibC.EPERM, EPermAdvice);
        }

        _waitBlock = waitBlock;
        _consumer = consumer;
        SignalNumber = signal;
    }

    private const string EPermAdvice = "The consumer runs as another user; signals need the same user (or CAP_KILL). Use the futex or eventfd doorbell.";

    /// <inheritdoc />
    public override DoorbellKind Kind => DoorbellKind.Signal;

    /// <summary>The real-time signal sent.</summary>
    public int SignalNumber { get; }

    /// <summary>The process this sender may signal (its own when the consumer is in this process).</summary>
    public int ConsumerProcessId => _consumer?.Pid ?? Environment.ProcessId;

    /// <summary>Rings that sent nothing because the wait block named a target this sender may not signal.</summary>
    public long RefusedRings => Volatile.Read(ref _refused);

    /// <inheritdoc />
    /// <exception cref="UintrIpcException">tgkill failed for a reason other than "consumer gone" (e.g. EPERM: another user).</exception>
    public override void Ring()
    {
        // Untrusted: whatever the wait block says is checked against what we know below.
        var (pid, tid) = SignalDoorbellReceiver.ReadConsumerThread(_waitBlock);
        if (tid <= 0)
        {
            return; // no consumer thread published: nobody to wake
        }

        if (pid != ConsumerProcessId)
        {
            Refuse(); // another process than the consumer's: never signalled
            return;
        }

        int rc;
        if (pid == Environment.ProcessId)
        {
            // Our own process: only a thread that hosts a live receiver of this signal.
            rc = SignalTargets.TrySignal(tid, SignalNumber);
        }
        else if (_consumer!.HasExited)
        {
            return; // the consumer is gone; its pid may name another process by now
        }
        else
        {
            // The kernel checks that tid is a thread of the trusted process (ESRCH otherwise).
            rc = Sys.TgKill(pid, tid, SignalNumber);
        }

        if (rc == 1)
        {
            Refuse();
            return;
        }

        if (rc == 0)
        {
            return;
        }

        int errno = LibC.errno;
        if (errno == LibC.ESRCH || errno == LibC.EAGAIN)
        {
            // ESRCH: the consumer thread is gone. EAGAIN: its signal queue is full, so a
            // wake-up is pending already. Neither is the producer's problem.
            return;
        }

        throw new UintrIpcException($"tgkill({pid}, {tid}, {SignalNumber})", errno,
            errno == LibC.EPERM ? EPermAdvice : null);
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _consumer?.Dispose();
        }

        base.Dispose(disposing);
    }

    private void Refuse() => Interlocked.Increment(ref _refused);
}
