namespace UintrIpc.Bootstrap;

/// <summary>
/// Who is on the other end of a bootstrap socket, as the kernel reports it (SO_PEERCRED):
/// the peer's process id and effective user and group ids at the time it called
/// connect (client) or listen (server). The peer cannot forge these.
/// </summary>
/// <param name="Pid">The peer's process id.</param>
/// <param name="Uid">The peer's effective user id.</param>
/// <param name="Gid">The peer's effective group id.</param>
public readonly record struct PeerCredentials(int Pid, uint Uid, uint Gid)
{
    /// <inheritdoc />
    public override string ToString() => $"pid {Pid}, uid {Uid}, gid {Gid}";
}
