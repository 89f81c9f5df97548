namespace UintrIpc.Rpc;

/// <summary>
/// Byte layout and constants of the request/response protocol, mirrored from
/// <c>interop/include/uintripc_rpc.h</c> (the specification; the section numbers below are
/// its sections). A test compiles the header and proves the two agree.
/// </summary>
internal static class RpcLayout
{
    /// <summary>Region kind of a session region: "URPC" as the bytes 55 52 50 43.</summary>
    public const uint RegionKind = 0x43505255;
    /// <summary>First word of the control block and of the hello and welcome messages: "RPOK".</summary>
    public const uint Magic = 0x4B4F5052;
    /// <summary>Bumped whenever a byte of the RPC layout or handshake moves.</summary>
    public const ushort Version = 1;
    /// <summary>Part kind of the control block (the first application-defined part kind).</summary>
    public const uint ControlPartKind = 0x100;
    /// <summary>Tag of the control block part.</summary>
    public const uint ControlTag = 0;
    /// <summary>Tag of the request ring (an MPSC slot ring).</summary>
    public const uint RequestsTag = 0;
    /// <summary>Tag of the response ring (an SPSC slot ring).</summary>
    public const uint ResponsesTag = 1;
    /// <summary>Tag of the payload arena.</summary>
    public const uint ArenaTag = 0;
    /// <summary>Tag of the server's wait block (it sleeps on requests).</summary>
    public const uint ServerWaitTag = 0;
    /// <summary>Tag of the client's wait block (it sleeps on responses).</summary>
    public const uint ClientWaitTag = 1;

    /// <summary>Fewest call slots of a session.</summary>
    public const int MinCalls = 2;
    /// <summary>Most call slots of a session (a power of two).</summary>
    public const int MaxCalls = 4096;
    /// <summary>Largest arena of a session, in bytes.</summary>
    public const long MaxArena = 1L << 30;
    /// <summary>The arena length is a multiple of this; the C# client aligns blocks to it.</summary>
    public const int ArenaAlignment = 64;
    /// <summary>Inline arguments of a request.</summary>
    public const int ArgumentCount = 4;

    /// <summary>server_state: serving.</summary>
    public const uint ServerRunning = 1;
    /// <summary>server_state: the session has ended on the server's side.</summary>
    public const uint ServerStopped = 2;

    // ---- struct uipc_rpc_control (section 1) ------------------------------------------------

    /// <summary>Bytes of the control block.</summary>
    public const int ControlSize = 256;
    /// <summary>u32 <see cref="Magic"/>.</summary>
    public const int ControlMagicOffset = 0;
    /// <summary>u16 <see cref="Version"/>.</summary>
    public const int ControlVersionOffset = 4;
    /// <summary>u16 doorbell kind of both directions.</summary>
    public const int ControlDoorbellOffset = 6;
    /// <summary>u32 call slots (both rings' capacity).</summary>
    public const int ControlMaxCallsOffset = 8;
    /// <summary>u64 usable bytes of the arena.</summary>
    public const int ControlArenaLengthOffset = 16;
    /// <summary>u64 random per server instance.</summary>
    public const int ControlServerEpochOffset = 24;
    /// <summary>u64 the server's number of the session.</summary>
    public const int ControlSessionIdOffset = 32;
    /// <summary>i32.</summary>
    public const int ControlServerPidOffset = 40;
    /// <summary>i32, as SO_PEERCRED reported it.</summary>
    public const int ControlClientPidOffset = 44;
    /// <summary>u32 <see cref="ServerRunning"/> or <see cref="ServerStopped"/> (release on change).</summary>
    public const int ControlServerStateOffset = 128;
    /// <summary>u64 responses published (server, release).</summary>
    public const int ControlResponsesSentOffset = 136;

    // ---- struct uipc_rpc_request / uipc_rpc_response (section 2) -----------------------------

    /// <summary>Bytes of a request (with the slot's sequence word: one 64-byte line).</summary>
    public const int RequestSize = 56;
    /// <summary>u64 id = slot | generation &lt;&lt; 32.</summary>
    public const int RequestIdOffset = 0;
    /// <summary>u32.</summary>
    public const int RequestOpcodeOffset = 8;
    /// <summary>u32 start of the data block in the arena.</summary>
    public const int RequestDataOffsetOffset = 12;
    /// <summary>u32 input bytes.</summary>
    public const int RequestInLengthOffset = 16;
    /// <summary>u32 bytes the server may write.</summary>
    public const int RequestOutCapacityOffset = 20;
    /// <summary>i64[4] inline arguments.</summary>
    public const int RequestArgsOffset = 24;
    /// <summary>Bytes of a response.</summary>
    public const int ResponseSize = 24;
    /// <summary>u64 the request's id.</summary>
    public const int ResponseIdOffset = 0;
    /// <summary>i64 value, or -errno.</summary>
    public const int ResponseResultOffset = 8;
    /// <summary>u32 bytes written at data_offset.</summary>
    public const int ResponseOutLengthOffset = 16;

    // ---- handshake (section 6) ----------------------------------------------------------------

    /// <summary>Bytes of struct uipc_rpc_hello.</summary>
    public const int HelloSize = 32;
    /// <summary>Bytes of struct uipc_rpc_welcome.</summary>
    public const int WelcomeSize = 64;
    /// <summary>u16 doorbell kind in the hello and the welcome.</summary>
    public const int HandshakeDoorbellOffset = 6;
    /// <summary>u32 wanted call slots in the hello.</summary>
    public const int HelloMaxCallsOffset = 8;
    /// <summary>u64 wanted arena bytes in the hello.</summary>
    public const int HelloArenaLengthOffset = 16;
    /// <summary>i32 0 or -errno in the welcome.</summary>
    public const int WelcomeStatusOffset = 8;
    /// <summary>u32 granted call slots in the welcome.</summary>
    public const int WelcomeMaxCallsOffset = 12;
    /// <summary>u64 granted arena bytes in the welcome.</summary>
    public const int WelcomeArenaLengthOffset = 16;
    /// <summary>u64 the region header's epoch, in the welcome.</summary>
    public const int WelcomeRegionEpochOffset = 24;
    /// <summary>u64 in the welcome.</summary>
    public const int WelcomeServerEpochOffset = 32;
    /// <summary>u64 in the welcome.</summary>
    public const int WelcomeSessionIdOffset = 40;

    /// <summary>Builds a request id from a call slot and its generation.</summary>
    public static ulong MakeId(uint slot, uint generation) => slot | ((ulong)generation << 32);

    /// <summary>The call slot of an id.</summary>
    public static uint SlotOf(ulong id) => (uint)id;

    /// <summary>The generation of an id.</summary>
    public static uint GenerationOf(ulong id) => (uint)(id >> 32);
}
