namespace UintrIpc.Rings;

/// <summary>
/// The fixed shape of a record ring as one consumer loop sees it (private copies of values
/// validated at attach, never re-read from shared memory): a local the JIT keeps in registers.
/// </summary>
internal readonly unsafe struct RecordShape(byte* data, int mask, int capacity, int maxMessageLength, int maxRecordLength)
{
    /// <summary>The first byte of the data area.</summary>
    public readonly byte* Data = data;

    /// <summary>Capacity - 1 (a power of two).</summary>
    public readonly int Mask = mask;

    /// <summary>Bytes of the data area.</summary>
    public readonly int Capacity = capacity;

    /// <summary>The most payload bytes of one record.</summary>
    public readonly int MaxMessageLength = maxMessageLength;

    /// <summary>align8(header + MaxMessageLength).</summary>
    public readonly int MaxRecordLength = maxRecordLength;
}
