namespace UintrIpc.Memory;

/// <summary>The state word of a region header.</summary>
internal enum RegionState : uint
{
    /// <summary>Not published yet (the magic is not there either).</summary>
    Initializing = 0,
    /// <summary>Initialised and usable.</summary>
    Ready = 1,
    /// <summary>The creator has shut the region down; peers should detach.</summary>
    Closed = 2,
}
