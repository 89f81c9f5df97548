using System.Runtime.InteropServices;
using UintrIpc.Signaling;

namespace UintrIpc.Channels;

/// <summary>Creates a producer's doorbell sender that matches the channel's consumer.</summary>
internal static class ChannelSenders
{
    /// <summary>Whether producers of <paramref name="kind"/> need the consumer's descriptor.</summary>
    internal static bool NeedsFd(DoorbellKind kind) => kind is DoorbellKind.EventFd or DoorbellKind.Uintr or DoorbellKind.UintrSimulated;

    /// <exception cref="ArgumentException">The doorbell needs the consumer's descriptor and none was given.</exception>
    internal static DoorbellSender Create(ChannelCore channel, WaitBlock waitBlock, SafeHandle? doorbellFd)
    {
        DoorbellKind kind = channel.Doorbell;
        if (kind == DoorbellKind.Signal)
        {
            // The consumer's process (a pidfd) when it is another process; none: this process.
            return Doorbells.CreateSender(kind, waitBlock, doorbellFd is { IsInvalid: false, IsClosed: false } ? doorbellFd : null);
        }

        if (!NeedsFd(kind))
        {
            return Doorbells.CreateSender(kind, waitBlock);
        }

        if (doorbellFd is null || doorbellFd.IsInvalid || doorbellFd.IsClosed)
        {
            throw new ArgumentException(
                $"The consumer of this channel sleeps in the {kind} doorbell, so a producer needs the consumer's descriptor: pass its DoorbellFd " +
                "(received with ChannelBootstrap.ReceiveProducer, over SCM_RIGHTS, or inherited).", nameof(doorbellFd));
        }

        return Doorbells.CreateSender(kind, waitBlock, doorbellFd);
    }
}
