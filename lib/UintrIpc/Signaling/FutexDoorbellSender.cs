using UintrIpc.Interop;

namespace UintrIpc.Signaling;

/// <summary>
/// The producer's side of the futex doorbell: increments the wait block's wake word and
/// issues FUTEX_WAKE (one system call, made only when the consumer announced its sleep).
/// </summary>
internal sealed unsafe class FutexDoorbellSender : DoorbellSender
{
    private readonly WaitBlock _waitBlock;
    private readonly uint* _word;

    /// <summary>Creates a sender on the wake word of <paramref name="waitBlock"/>.</summary>
    public FutexDoorbellSender(WaitBlock waitBlock)
    {
        ArgumentNullException.ThrowIfNull(waitBlock);
        _waitBlock = waitBlock;
        _word = waitBlock.WakeWord;
    }

    /// <inheritdoc />
    public override DoorbellKind Kind => DoorbellKind.Futex;

    /// <summary>The wait block whose wake word this sender rings.</summary>
    public WaitBlock WaitBlock => _waitBlock;

    /// <inheritdoc />
    public override void Ring()
    {
        // Full fence (lock xadd): the new value is visible before the wake, so a consumer that
        // has not reached FUTEX_WAIT yet sees a changed word and does not sleep.
        Interlocked.Increment(ref *_word);
        // Wake all: a wait block has one consumer, and waking "all" of one costs the same as one.
        int rc = Shim.FutexWake(_word, int.MaxValue);
        if (rc < 0)
        {
            throw new UintrIpcException("futex(FUTEX_WAKE)", -rc, "The wake word must lie in a mapped region; a seccomp filter may block futex.");
        }
    }
}
