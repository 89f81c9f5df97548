using UintrIpc.Signaling;

namespace UintrIpc.Rpc;

/// <summary>The spin and yield steps before a park, shared by the client's reader and the server's session thread.</summary>
internal static class RpcBackoff
{
    /// <summary>Spins or yields once for the phase at <paramref name="now"/>; true when it is time to park instead.</summary>
    internal static bool SpinOrYield(ref BackoffPhaser phaser, long now)
    {
        switch (phaser.Next(now))
        {
            case BackoffPhase.Spinning:
                Thread.SpinWait(1);
                return false;
            case BackoffPhase.Yielding:
                Thread.Yield();
                return false;
            default:
                return true;
        }
    }
}
