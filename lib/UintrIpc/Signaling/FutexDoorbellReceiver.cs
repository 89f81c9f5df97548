using UintrIpc.Interop;

namespace UintrIpc.Signaling;

// Design:
//   The futex word is the wait block's wake_word, in a MAP_SHARED region, and the shim uses
//   FUTEX_WAIT without FUTEX_PRIVATE_FLAG, so the kernel keys the wait on the shared page and
//   a waker in another process finds it. Producers only ever increment the word (then
//   FUTEX_WAKE); the consumer only reads it. PrepareToWait returns the value before the sleep
//   is announced; FUTEX_WAIT(word, token) sleeps only while the word still holds it, so a ring
//   that came after the announcement makes the wait return at once (EAGAIN). The word wraps
//   after 2^32 rings; a wait could then miss a ring only if exactly 2^32 rings happened
//   between PrepareToWait and FUTEX_WAIT, and the bounded timeout covers even that.

/// <summary>
/// The consumer's side of the futex doorbell: blocks in FUTEX_WAIT on the wait block's wake
/// word (works across processes). Pair with <see cref="FutexDoorbellSender"/> on the same wait block.
/// </summary>
public sealed unsafe class FutexDoorbellReceiver : DoorbellReceiver
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
