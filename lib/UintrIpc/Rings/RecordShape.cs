namespace UintrIpc.Rings;

/// <summary>
/// The fixed shape of a record ring as the consumer's record check sees it (private copies of
/// values validated at attach, never re-read from shared memory), built from the engine's
/// fields (ReadRecords: from locals read once per Read). The capacity (mask + 1) and the longest
/// record (align8(8 + MaxMessageLength)) are derived where needed.
/// </summary>
internal readonly unsafe struct RecordShape(byte* data, int mask, int maxMessageLength)
{
    /// <summary>The first byte of the data area.</summary>
    public readonly byte* Data = data;

    /// <summary>Capacity - 1 (a power of two).</summary>
    public readonly int Mask = mask;

    /// <summary>The most payload bytes of one record.</summary>
    public readonly int MaxMessageLength = maxMessageLength;
}
