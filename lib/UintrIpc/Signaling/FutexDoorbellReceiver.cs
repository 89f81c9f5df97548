using UintrIpc.Interop;

namespace UintrIpc.Signaling;

// The futex doorbell (uintripc.h section 3, C2/C5 and P5): the wait block's wake_word, a
// shared (not private) futex, so a waker in another process finds it. The token is the word's
// value before the announcement, so a ring after it makes FUTEX_WAIT return at once.

/// <summary>
/// The consumer's side of the futex doorbell: blocks in FUTEX_WAIT on the wait block's wake
/// word (works across processes). Pair with <see cref="FutexDoorbellSender"/> on the same wait block.
/// </summary>
internal sealed unsafe class FutexDoorbellReceiver : DoorbellReceiver
{
    private readonly WaitBlock _waitBlock;
    private readonly uint* _word;

    /// <summary>Creates a receiver on the wake word of <paramref name="waitBlock"/>.</summary>
    public FutexDoorbellReceiver(WaitBlock waitBlock)
    {
        ArgumentNullException.ThrowIfNull(waitBlock);
        _waitBlock = waitBlock;
        _word = waitBlock.WakeWord;
    }

    /// <inheritdoc />
    public override DoorbellKind Kind => DoorbellKind.Futex;

    /// <summary>The wait block whose wake word this receiver waits on.</summary>
    public WaitBlock WaitBlock => _waitBlock;

    /// <inheritdoc />
    internal override WaitBlock? BoundWaitBlock => _waitBlock;

    /// <inheritdoc />
    public override uint PrepareToWait() => Volatile.Read(ref *_word); // acquire: the current ring count

    /// <inheritdoc />
    public override bool Wait(uint token, TimeSpan timeout)
    {
        WaitDeadline.Validate(timeout);
        int rc = Shim.FutexWait(_word, token, WaitDeadline.ToNanoseconds(timeout));
        return rc switch
        {
            Shim.FutexWoken or Shim.FutexValueChanged => true,
            Shim.FutexTimedOut => false,
            _ => throw new UintrIpcException("futex(FUTEX_WAIT)", -rc,
                "The wake word must lie in a mapped, writable region; a seccomp filter may also block futex."),
        };
    }
}
