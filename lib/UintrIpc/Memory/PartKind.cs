namespace UintrIpc.Memory;

/// <summary>What a part of a region holds (enum uipc_part_kind in uintripc.h).</summary>
internal enum PartKind : uint
{
    /// <summary>Unused entry.</summary>
    None = 0,
    /// <summary>Single-producer ring of fixed-size slots.</summary>
    SpscSlots = 1,
    /// <summary>Multi-producer ring of fixed-size slots.</summary>
    MpscSlots = 2,
    /// <summary>Single-producer ring of variable-length records.</summary>
    SpscRecords = 3,
    /// <summary>Multi-producer ring of variable-length records.</summary>
    MpscRecords = 4,
    /// <summary>Wake-up protocol state of one consumer.</summary>
    WaitBlock = 5,
    /// <summary>A payload arena.</summary>
    Arena = 6,
    /// <summary>Two single-producer slot rings whose slots interleave (requests and responses, uintripc.h 2h).</summary>
    DuplexSlots = 7,
    /// <summary>First application-defined kind.</summary>
    User = 0x100,
}
