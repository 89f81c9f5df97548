using Tmds.Linux;
using UintrIpc.Interop;

namespace UintrIpc.Signaling;

/// <summary>
/// The producer's side of the signal doorbell: tgkill of the consumer's real-time signal to
/// the consumer THREAD published in the wait block (never to the whole process; see
/// <see cref="SignalDoorbellReceiver"/> for why).
/// </summary>
/// <remarks>
/// The thread is looked up on every ring, after the wait-block protocol has seen the consumer
/// asleep, so a consumer that moved to another thread is found there. Permission rules of
/// kill(2) apply: the consumer must run as the same user (or we need CAP_KILL).
/// </remarks>
public sealed class SignalDoorbellSender : DoorbellSender
{
    private readonly WaitBlock _waitBlock;

    /// <summary>Creates a sender for the consumer of <paramref name="waitBlock"/>.</summary>
    /// <param name="waitBlock">The consumer's wait block, where its pid and tid are published.</param>
    /// <param name="signalNumber">The consumer's signal (its <see cref="SignalDoorbellReceiver.SignalNumber"/>), or 0 for the default.</param>
    public SignalDoorbellSender(WaitBlock waitBlock, int signalNumber = 0)
    {
        ArgumentNullException.ThrowIfNull(waitBlock);
        int min = Sys.SigRtMin() + 1, max = Sys.SigRtMax();
        int signal = signalNumber == 0 ? SignalDoorbellReceiver.DefaultSignalNumber : signalNumber;
        if (signal < min || signal > max)
        {
            throw new ArgumentOutOfRangeException(nameof(signalNumber), signalNumber, $"Use a real-time signal between {min} and {max}, the one the consumer blocks.");
        }

        _waitBlock = waitBlock;
        SignalNumber = signal;
    }

    /// <inheritdoc />
    public override DoorbellKind Kind => DoorbellKind.Signal;

    /// <summary>The real-time signal sent.</summary>
    public int SignalNumber { get; }

    /// <inheritdoc />
    /// <exception cref="UintrIpcException">tgkill failed for a reason other than "consumer gone" (e.g. EPERM: another user).</exception>
    public override void Ring()
    {
        var (pid, tid) = SignalDoorbellReceiver.ReadConsumerThread(_waitBlock);
        if (pid <= 0 || tid <= 0)
        {
            return; // no consumer thread published (or a corrupt value): nobody to wake
        }

        if (Sys.TgKill(pid, tid, SignalNumber) == 0)
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
            errno == LibC.EPERM ? "The consumer runs as another user; signals need the same user (or CAP_KILL). Use the futex or eventfd doorbell." : null);
    }
}
