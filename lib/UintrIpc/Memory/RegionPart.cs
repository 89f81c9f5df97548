namespace UintrIpc.Memory;

/// <summary>One validated entry of a region's part table.</summary>
/// <param name="Index">Position in the part table.</param>
/// <param name="Kind">What the part holds.</param>
/// <param name="Tag">Application tag.</param>
/// <param name="Offset">Offset from the start of the region (validated: aligned and inside the region).</param>
/// <param name="Length">Bytes (validated: inside the region, no overlap with other parts).</param>
internal readonly record struct RegionPart(int Index, PartKind Kind, uint Tag, long Offset, long Length);
