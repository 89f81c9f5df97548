using UintrIpc.Memory;
using UintrIpc.Rings;
using UintrIpc.Rpc;
using UintrIpc.Signaling;

namespace UintrIpc.Tests.Trust;

/// <summary>
/// A hostile RPC client: a genuine session (RpcClient's handshake), then raw requests written
/// into the request ring and the answers read from the response ring by a consumer of its own
/// (the RpcClient is never called, so nothing else drains it). Lets a test send any field
/// value (uintripc_rpc.h sections 2-4) and see the exact response and arena bytes.
/// </summary>
internal sealed unsafe class RawRpcClient : IDisposable
{
    private readonly RpcClient _client;
    private readonly SlotRing<RpcWireResponse> _responses;
    private readonly WaitBlock _serverWait;
    private readonly FutexDoorbellSender _serverBell;

    /// <summary>Opens the session; a constructor that fails halfway disposes what it made (the session, the ring's consumer) and rethrows.</summary>
    /// <param name="endpoint">The server.</param>
    /// <param name="arenaLength">The arena asked for.</param>
    /// <param name="afterConnect">Tests of this helper: runs after each step (0: connected, 1: the response ring's consumer made), to fail there.</param>
    public RawRpcClient(string endpoint, int arenaLength, Action<int>? afterConnect = null)
    {
        _client = RpcClient.Connect(endpoint, new RpcClientOptions { MaxCalls = 4, ArenaLength = arenaLength });
        SlotRing<RpcWireResponse>? responses = null;
        try
        {
            afterConnect?.Invoke(0);
            Region = _client.SessionRegion;
            responses = new SlotRing<RpcWireResponse>(Region.Region, Region.Region.FindPart(PartKind.SpscSlots, RpcLayout.ResponsesTag));
            afterConnect?.Invoke(1);
            _serverWait = new WaitBlock(Region.Region, Region.ServerWaitPart);
            _serverBell = new FutexDoorbellSender(new WaitBlock(Region.Region, Region.ServerWaitPart));
            _responses = responses;
        }
        catch
        {
            responses?.Dispose();
            _client.Dispose();
            throw;
        }
    }

    public RpcRegion Region { get; }

    public Span<byte> Arena => new(Region.Arena, (int)Region.ArenaLength);

    /// <summary>Writes one request and waits for its answer; null when none comes within <paramref name="timeout"/>.</summary>
    public RpcWireResponse? Call(in RpcWireRequest request, TimeSpan timeout)
        => Send(request, timeout) ? Receive(timeout) : null; // false: the server read nothing, no progress since the request was due

    /// <summary>Writes one request and rings the server; false when the ring had no room within <paramref name="timeout"/>.</summary>
    public bool Send(in RpcWireRequest request, TimeSpan timeout)
    {
        long start = Environment.TickCount64;
        while (!Region.Requests.TryWrite(request))
        {
            if (Environment.TickCount64 - start > timeout.TotalMilliseconds)
            {
                return false;
            }

            Thread.Yield();
        }

        // Producer side of the wake-up protocol (section 5): the server may be parked.
        _serverWait.WakeIfSleeping(_serverBell);
        return true;
    }

    /// <summary>The next answer in the response ring; null when none comes within <paramref name="timeout"/>.</summary>
    public RpcWireResponse? Receive(TimeSpan timeout)
    {
        long start = Environment.TickCount64;
        RpcWireResponse response;
        while (!_responses.TryRead(out response))
        {
            if (Environment.TickCount64 - start > timeout.TotalMilliseconds)
            {
                return null;
            }

            Thread.Yield();
        }

        return response;
    }

    public void Dispose()
    {
        _serverBell.Dispose();
        _responses.Dispose();
        _client.Dispose();
    }
}
