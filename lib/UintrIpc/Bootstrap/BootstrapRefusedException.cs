namespace UintrIpc.Bootstrap;

/// <summary>
/// A bootstrap connection was refused because of who is on the other end: either the
/// server refused this process (<see cref="RefusedByPeer"/> is true; the server sent the
/// reason), or this process's policy refused the server. No descriptor was passed and
/// nothing was mapped.
/// </summary>
public sealed class BootstrapRefusedException : UintrIpcException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="endpoint">Where the connection was made.</param>
    /// <param name="reason">The reason given by the refusing side.</param>
    /// <param name="refusedByPeer">True when the other side refused us, false when our policy refused it.</param>
    public BootstrapRefusedException(string endpoint, string reason, bool refusedByPeer)
        : base(refusedByPeer
            ? $"The bootstrap server at {endpoint} refused this process: {reason}. Check the server's PeerPolicy (which users it allows)."
            : $"This process refused the bootstrap server at {endpoint}: {reason}. Is the right server listening there? Adjust the client's PeerPolicy if it is.")
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        Endpoint = endpoint;
        Reason = reason;
        RefusedByPeer = refusedByPeer;
    }

    /// <summary>Where the connection was made.</summary>
    public string Endpoint { get; }

    /// <summary>The reason given by the refusing side.</summary>
    public string Reason { get; }

    /// <summary>True when the server refused this process; false when this process's policy refused the server.</summary>
    public bool RefusedByPeer { get; }
}
