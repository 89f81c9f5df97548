using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace UintrIpc.Signaling;

/// <summary>The one spin-loop hint of every polling loop (backoff, the record producer's wait, the harness).</summary>
internal static class SpinHint
{
    /// <summary>
    /// One PAUSE (x86) / YIELD (arm64). The JIT folds the checks away, so the hint is one
    /// instruction inline; Thread.SpinWait(1), the fallback elsewhere, is a call into the
    /// runtime normalised to a longer pause.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Pause()
    {
        if (X86Base.IsSupported)
        {
            X86Base.Pause();
        }
        else if (ArmBase.IsSupported)
        {
            ArmBase.Yield();
        }
        else
        {
            Thread.SpinWait(1);
        }
    }
}
