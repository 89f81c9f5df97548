namespace UintrIpc.Bootstrap;

/// <summary>A server refused a connecting peer (see <see cref="BootstrapServer.PeerRefused"/>).</summary>
/// <param name="peer">The refused peer's credentials.</param>
/// <param name="reason">Why the policy refused it (also sent to the peer).</param>
internal sealed class PeerRefusedEventArgs(PeerCredentials peer, string reason) : EventArgs
{
    /// <summary>The refused peer's credentials.</summary>
    public PeerCredentials Peer { get; } = peer;

    /// <summary>Why the policy refused it (also sent to the peer).</summary>
    public string Reason { get; } = reason;
}
