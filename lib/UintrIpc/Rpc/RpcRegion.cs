using System.Numerics;
using UintrIpc.Memory;
using UintrIpc.Rings;
using UintrIpc.Signaling;

namespace UintrIpc.Rpc;

/// <summary>
/// The region of one session (uintripc_rpc.h section 1): created by the server, attached by
/// the client; both validate it and keep its geometry privately after that.
/// </summary>
internal sealed unsafe class RpcRegion
{
    private RpcRegion(SharedRegion region)
    {
        Region = region;
        if (region.RegionKind != RpcLayout.RegionKind)
        {
            throw new RegionFormatException("region kind", $"0x{RpcLayout.RegionKind:x8} (an RPC session)", $"0x{region.RegionKind:x8}");
        }

        RegionPart control = FindPart(region, (PartKind)RpcLayout.ControlPartKind, RpcLayout.ControlTag);
        if (control.Length < RpcLayout.ControlSize)
        {
            throw new RegionFormatException("RPC control part length", $">= {RpcLayout.ControlSize}", control.Length.ToString());
        }

        Control = region.PartPointer(control);
        // Plain reads: the immutable words were published by the release of the region's magic,
        // which SharedRegion read with acquire. Read once; only these private copies are used.
        uint magic = *(uint*)(Control + RpcLayout.ControlMagicOffset);
        ushort version = *(ushort*)(Control + RpcLayout.ControlVersionOffset);
        if (magic != RpcLayout.Magic || version != RpcLayout.Version)
        {
            throw new RegionFormatException("RPC control magic/version", $"0x{RpcLayout.Magic:x8}/{RpcLayout.Version}", $"0x{magic:x8}/{version}",
                "Use the same UintrIpc version on both sides.");
        }

        MaxCalls = (int)Math.Min(*(uint*)(Control + RpcLayout.ControlMaxCallsOffset), int.MaxValue);
        ArenaLength = (long)Math.Min(*(ulong*)(Control + RpcLayout.ControlArenaLengthOffset), long.MaxValue);
        Doorbell = (DoorbellKind)(*(ushort*)(Control + RpcLayout.ControlDoorbellOffset));
        ServerEpoch = *(ulong*)(Control + RpcLayout.ControlServerEpochOffset);
        SessionId = *(ulong*)(Control + RpcLayout.ControlSessionIdOffset);
        if (MaxCalls < RpcLayout.MinCalls || MaxCalls > RpcLayout.MaxCalls || !BitOperations.IsPow2(MaxCalls))
        {
            throw new RegionFormatException("RPC max_calls", $"a power of two in [{RpcLayout.MinCalls}, {RpcLayout.MaxCalls}]", MaxCalls.ToString());
        }

        if (Doorbell is not (DoorbellKind.None or DoorbellKind.Futex or DoorbellKind.EventFd))
        {
            throw new RegionFormatException("RPC doorbell kind", "none, futex or eventfd", ((uint)Doorbell).ToString());
        }

        RegionPart arena = FindPart(region, PartKind.Arena, RpcLayout.ArenaTag);
        if (ArenaLength < 0 || ArenaLength > arena.Length || ArenaLength > RpcLayout.MaxArena || ArenaLength % RpcLayout.ArenaAlignment != 0)
        {
            throw new RegionFormatException("RPC arena_length", $"a multiple of {RpcLayout.ArenaAlignment} up to the arena part ({arena.Length})", ArenaLength.ToString());
        }

        Arena = region.PartPointer(arena);
        // The ring constructors validate their descriptors and positions. No lease (lease: false):
        // the region's owner keeps the mapping, as for the raw Control and Arena pointers.
        Requests = new SlotRing<RpcWireRequest>(region, FindPart(region, PartKind.MpscSlots, RpcLayout.RequestsTag), lease: false);
        Responses = new SlotRing<RpcWireResponse>(region, FindPart(region, PartKind.SpscSlots, RpcLayout.ResponsesTag), lease: false);
        if (Requests.Capacity != MaxCalls || Responses.Capacity != MaxCalls)
        {
            throw new RegionFormatException("RPC ring capacities", $"{MaxCalls} (max_calls)", $"{Requests.Capacity} and {Responses.Capacity}");
        }

        ServerWaitPart = FindPart(region, PartKind.WaitBlock, RpcLayout.ServerWaitTag);
        ClientWaitPart = FindPart(region, PartKind.WaitBlock, RpcLayout.ClientWaitTag);
    }

    internal SharedRegion Region { get; }

    internal byte* Control { get; }

    internal byte* Arena { get; }

    internal long ArenaLength { get; }

    internal int MaxCalls { get; }

    internal DoorbellKind Doorbell { get; }

    internal ulong ServerEpoch { get; }

    internal ulong SessionId { get; }

    internal SlotRing<RpcWireRequest> Requests { get; }

    internal SlotRing<RpcWireResponse> Responses { get; }

    internal RegionPart ServerWaitPart { get; }

    internal RegionPart ClientWaitPart { get; }

    /// <summary>server_state (acquire: the server's release on change).</summary>
    internal uint ServerState => Volatile.Read(ref *(uint*)(Control + RpcLayout.ControlServerStateOffset));

    /// <summary>Server: creates a session region (memfd, sealed) and initialises it.</summary>
    internal static RpcRegion Create(int maxCalls, long arenaLength, DoorbellKind doorbell, ulong serverEpoch, ulong sessionId, int clientPid)
    {
        SharedRegion region = SharedRegion.CreateAnonymous(RpcLayout.RegionKind, Parts(maxCalls, arenaLength, doorbell, serverEpoch, sessionId, clientPid));
        try
        {
            return new RpcRegion(region);
        }
        catch
        {
            region.Dispose();
            throw;
        }
    }

    /// <summary>The parts of a session region (section 1), initialised (tests build broken regions from them).</summary>
    internal static PartSpec[] Parts(int maxCalls, long arenaLength, DoorbellKind doorbell, ulong serverEpoch, ulong sessionId, int clientPid)
    {
        int serverPid = Environment.ProcessId;
        // Part initializers run on zero-filled memory before the region is published: plain stores.
        var control = new PartSpec((PartKind)RpcLayout.ControlPartKind, RpcLayout.ControlTag, RpcLayout.ControlSize, (address, _) =>
        {
            byte* c = (byte*)address;
            *(uint*)(c + RpcLayout.ControlMagicOffset) = RpcLayout.Magic;
            *(ushort*)(c + RpcLayout.ControlVersionOffset) = RpcLayout.Version;
            *(ushort*)(c + RpcLayout.ControlDoorbellOffset) = (ushort)doorbell;
            *(uint*)(c + RpcLayout.ControlMaxCallsOffset) = (uint)maxCalls;
            *(ulong*)(c + RpcLayout.ControlArenaLengthOffset) = (ulong)arenaLength;
            *(ulong*)(c + RpcLayout.ControlServerEpochOffset) = serverEpoch;
            *(ulong*)(c + RpcLayout.ControlSessionIdOffset) = sessionId;
            *(int*)(c + RpcLayout.ControlServerPidOffset) = serverPid;
            *(int*)(c + RpcLayout.ControlClientPidOffset) = clientPid;
            *(uint*)(c + RpcLayout.ControlServerStateOffset) = RpcLayout.ServerRunning;
        });
        Action<nint, long> kind = (address, _) => *(uint*)((byte*)address + WaitBlockLayout.DoorbellKindOffset) = (uint)doorbell;
        return
        [
            control,
            SlotRing<RpcWireRequest>.Part(maxCalls, multipleProducers: true, RpcLayout.RequestsTag),
            SlotRing<RpcWireResponse>.Part(maxCalls, multipleProducers: false, RpcLayout.ResponsesTag),
            new PartSpec(PartKind.Arena, RpcLayout.ArenaTag, Math.Max(arenaLength, RpcLayout.ArenaAlignment)),
            new PartSpec(PartKind.WaitBlock, RpcLayout.ServerWaitTag, WaitBlockLayout.Size, kind),
            new PartSpec(PartKind.WaitBlock, RpcLayout.ClientWaitTag, WaitBlockLayout.Size, kind),
        ];
    }

    /// <summary>
    /// A part section 1 names. A region from a hostile or broken server may lack it (or have a
    /// ring of the other mode): that is a malformed region, reported as one, not as the part
    /// lookup's KeyNotFoundException, which no caller of RpcClient.Connect expects.
    /// </summary>
    private static RegionPart FindPart(SharedRegion region, PartKind kind, uint tag)
    {
        try
        {
            return region.FindPart(kind, tag);
        }
        catch (KeyNotFoundException e)
        {
            throw new RegionFormatException("RPC region parts", $"a part {kind} with tag {tag} (uintripc_rpc.h section 1)", "none", e.Message);
        }
    }

    /// <summary>Client: validates a received region (disposed by the caller on failure).</summary>
    internal static RpcRegion Attach(SharedRegion region) => new(region);

    /// <summary>Server: ends the session on its side (release: peers that read STOPPED see everything before it).</summary>
    internal void MarkStopped() => Volatile.Write(ref *(uint*)(Control + RpcLayout.ControlServerStateOffset), RpcLayout.ServerStopped);

    /// <summary>Server: publishes the running count of responses (release; diagnostics only).</summary>
    internal void PublishResponsesSent(ulong count) => Volatile.Write(ref *(ulong*)(Control + RpcLayout.ControlResponsesSentOffset), count);

    /// <summary>
    /// Whether the block [offset, offset + max(inLength, outCapacity)) lies inside the arena
    /// (64-bit arithmetic, so no value read from shared memory can overflow it).
    /// </summary>
    internal bool BlockInArena(uint offset, uint inLength, uint outCapacity)
        => (ulong)offset + Math.Max(inLength, outCapacity) <= (ulong)ArenaLength;
}
