using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;
using UintrIpc.Signaling;

namespace UintrIpc.Rpc;

/// <summary>The spin and yield steps before a park, shared by the client's reader and the server's session thread.</summary>
internal static class RpcBackoff
{
    /// <summary>
    /// Polls of the probe per clock read while spinning. A clock read (vDSO clock_gettime) costs
    /// about two pause instructions here, and a round trip is a few polls, so reading it on every
    /// poll doubled the time to notice a message; bench/native's ping-pongs read it every 1024
    /// polls. 32 keeps the spin budget within about a microsecond.
    /// </summary>
    internal const int PollsPerClockRead = 32;

    /// <summary>
    /// Spins or yields once for the phase at <paramref name="now"/>; true when it is time to park instead.
    /// Spinning polls <paramref name="probe"/> (a shared load, no stores) up to <see cref="PollsPerClockRead"/>
    /// times with a pause between polls, and returns as soon as it has work.
    /// </summary>
    internal static bool SpinOrYield<TProbe>(ref BackoffPhaser phaser, long now, ref TProbe probe)
        where TProbe : struct, IWaitProbe
    {
        switch (phaser.Next(now))
        {
            case BackoffPhase.Spinning:
                for (int i = 0; i < PollsPerClockRead && !probe.HasWork; i++)
                {
                    Pause();
                }

                return false;
            case BackoffPhase.Yielding:
                Thread.Yield();
                return false;
            default:
                return true;
        }
    }

    /// <summary>One pause instruction where there is one (Thread.SpinWait(1) is a call into the runtime, normalised to a longer pause).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Pause()
    {
        if (X86Base.IsSupported)
        {
            X86Base.Pause();
        }
        else
        {
            Thread.SpinWait(1);
        }
    }
}
