namespace UintrIpc.Channels;

/// <summary>
/// A lease on a channel's region (SharedRegion's count) held for the length of one operation (a wait, a write
/// with backpressure): the mapping cannot go away under it, whichever thread disposes what.
/// </summary>
internal readonly struct ChannelLease : IDisposable
{
    private readonly ChannelCore? _core;

    /// <exception cref="ObjectDisposedException">Every reference was released already.</exception>
    internal ChannelLease(ChannelCore core)
    {
        core.AddLease();
        _core = core;
    }

    public void Dispose() => _core?.ReleaseLease();
}
