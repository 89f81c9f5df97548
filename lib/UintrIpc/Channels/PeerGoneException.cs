using System.Threading.Channels;
using UintrIpc.Metrics;

namespace UintrIpc.Channels;

/// <summary>
/// The other side of a channel has gone (its process exited, or its consumer was disposed)
/// without completing the channel: nothing more can come (a consumer's view) or be read (a
/// producer's view). A <see cref="ChannelClosedException"/>, so code that treats a closed
/// channel as the end sees it as one, with the reason.
/// </summary>
public sealed class PeerGoneException : ChannelClosedException
{
    /// <summary>Creates the exception with a message saying which peer went and how it was noticed.</summary>
    public PeerGoneException(string message)
        : base(message)
    {
        ErrorCounts.CountPeerGone(); // the uintripc.errors instrument
    }

    /// <summary>Creates the exception with a message and the error that revealed it.</summary>
    public PeerGoneException(string message, Exception innerException)
        : base(message, innerException)
    {
        ErrorCounts.CountPeerGone(); // the uintripc.errors instrument
    }

    /// <summary>Creates the exception with a default message.</summary>
    public PeerGoneException()
        : base("The other side of the channel has gone without completing it.")
    {
        ErrorCounts.CountPeerGone(); // the uintripc.errors instrument
    }
}
