using System.Diagnostics;
using UintrIpc.Bootstrap;

namespace UintrIpc.Rpc;

/// <summary>
/// One connected client of an <see cref="RpcServer"/>, as handlers and the session events see
/// it: who it is and what the application keeps for it (<see cref="State"/>, e.g. the
/// client's own descriptor table).
/// </summary>
[DebuggerDisplay("session {Id} ({Peer})")]
public sealed class RpcSession
{
    private readonly RpcServerSession _owner;
    private long _requests;

    internal RpcSession(ulong id, PeerCredentials peer, DoorbellKind doorbell, int maxCalls, long arenaLength, RpcServerSession owner)
    {
        _owner = owner;
        Id = id;
        Peer = peer;
        Doorbell = doorbell;
        MaxCalls = maxCalls;
        ArenaLength = arenaLength;
    }

    /// <summary>The server's number for the session (unique within one server instance).</summary>
    public ulong Id { get; }

    /// <summary>The client process, as the kernel reported it (SO_PEERCRED).</summary>
    public PeerCredentials Peer { get; }

    /// <summary>The doorbell of both directions.</summary>
    public DoorbellKind Doorbell { get; }

    /// <summary>Call slots of the session.</summary>
    public int MaxCalls { get; }

    /// <summary>Bytes of the session's arena.</summary>
    public long ArenaLength { get; }

    /// <summary>Requests answered so far.</summary>
    public long Requests => Volatile.Read(ref _requests);

    /// <summary>
    /// How often the session thread and the client's callers slept and were woken (the
    /// session's wait-block counters); after the session ended, the counts at its end.
    /// </summary>
    internal RpcWakeStatistics WakeStatistics => _owner.ReadWakeStatistics();

    /// <summary>
    /// Why the session ended: the client disconnected or died, the server stopped, or the client
    /// broke the protocol; null while it is open (set before <see cref="RpcServer.SessionClosed"/> is raised).
    /// </summary>
    public string? CloseReason { get; internal set; }

    /// <summary>Application state of the session (set it in <see cref="RpcServer.SessionOpened"/>, release it in <see cref="RpcServer.SessionClosed"/>).</summary>
    public object? State { get; set; }

    internal void CountRequests(int count) => Volatile.Write(ref _requests, _requests + count); // one writer: the session thread

    /// <inheritdoc />
    public override string ToString() => $"session {Id} ({Peer})";
}
