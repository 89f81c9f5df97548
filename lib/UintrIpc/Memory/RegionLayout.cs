namespace UintrIpc.Memory;

/// <summary>
/// Byte layout of a region header, mirrored from <c>interop/include/uintripc.h</c>
/// (struct uipc_region_header and struct uipc_part). A test proves the two agree.
/// </summary>
/// <remarks>
/// <code>
///  0        4         6            8            12           16           24      32          36      40        64               576      1024
///  | magic  | version | headerSize | regionKind | partCount  | totalSize  | epoch | creatorPid| state | reserved| parts[16] x 32 | reserved |
/// </code>
/// The creator writes <see cref="MagicOffset"/> last, with release semantics.
/// </remarks>
internal static class RegionLayout
{
    /// <summary>"UIPC" as the bytes 55 49 50 43.</summary>
    public const uint Magic = 0x43504955;
    /// <summary>Bumped whenever a byte of the shared layout moves or the protocol changes so that a peer of the previous version would break it.</summary>
    public const ushort LayoutVersion = 6; // uintripc.h UIPC_LAYOUT_VERSION: what changed from 3, 4 and 5 is noted there
    /// <summary>Size of the header; the first part starts at or after it.</summary>
    public const int HeaderSize = 1024;
    /// <summary>Entries in the part table.</summary>
    public const int MaxParts = 16;
    /// <summary>Every part offset is a multiple of this.</summary>
    public const int PartAlignment = 128;
    /// <summary>Distance between words written by different sides (two 64-byte lines).</summary>
    public const int FalseSharingRange = 128;

    /// <summary>u32, release-published last by the creator.</summary>
    public const int MagicOffset = 0;
    /// <summary>u16.</summary>
    public const int VersionOffset = 4;
    /// <summary>u16.</summary>
    public const int HeaderSizeOffset = 6;
    /// <summary>u32, application-defined.</summary>
    public const int RegionKindOffset = 8;
    /// <summary>u32.</summary>
    public const int PartCountOffset = 12;
    /// <summary>u64.</summary>
    public const int TotalSizeOffset = 16;
    /// <summary>u64.</summary>
    public const int EpochOffset = 24;
    /// <summary>i32.</summary>
    public const int CreatorPidOffset = 32;
    /// <summary>u32 (<see cref="RegionState"/>).</summary>
    public const int StateOffset = 36;
    /// <summary>Start of the part table.</summary>
    public const int PartsOffset = 64;

    /// <summary>Size of one part table entry.</summary>
    public const int PartSize = 32;
    /// <summary>u32 (<see cref="PartKind"/>).</summary>
    public const int PartKindOffset = 0;
    /// <summary>u32 application tag.</summary>
    public const int PartTagOffset = 4;
    /// <summary>u64 offset from the region start.</summary>
    public const int PartOffsetOffset = 8;
    /// <summary>u64 length in bytes.</summary>
    public const int PartLengthOffset = 16;
}
