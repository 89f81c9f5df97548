using UintrIpc.Memory;

namespace UintrIpc.Rings;

/// <summary>
/// Tells a ring call that lost a race with its channel end's Dispose from a peer's corruption.
/// A non-blocking call on a channel end is not waited for (docs/channels.md): a Dispose on
/// another thread may retire the mapping under it (<see cref="SafeMappingHandle.Retire"/>: private
/// zeros in its place), and what the call reads then breaks the ring's rules as a peer's garbage
/// would. Only on the way to reporting corruption is the mapping looked at (the success paths
/// pay nothing): retired, the call raced a Dispose, and it throws <see cref="ObjectDisposedException"/>.
/// </summary>
/// <remarks>
/// Ordering: Retire sets its flag (Interlocked) before the mmap that puts the zeros in place, and
/// this call saw that mmap's effect (the zeros), through the TLB shootdown that interrupts every
/// thread of the process; <see cref="SharedRegion.IsMapped"/> then reads the flag (Volatile).
/// A real peer's corruption met while this end is being disposed is reported as the Dispose too:
/// the end is gone either way.
/// </remarks>
internal static class RetiredMapping
{
    /// <summary><paramref name="corruption"/>, or, when <paramref name="region"/>'s mapping was retired meanwhile, the <see cref="ObjectDisposedException"/> of <paramref name="owner"/>.</summary>
    /// <remarks><paramref name="owner"/>: the channel end's type name (the object name of its other ObjectDisposedExceptions); null: a bare ring.</remarks>
    internal static Exception OrDisposed(SharedRegion region, string? owner, Exception corruption)
        => region.IsMapped ? corruption : new ObjectDisposedException(owner ?? "ring",
            "This channel end (or ring) was disposed on another thread while this call ran: the call read the memory that replaced the ring's mapping, " +
            "not a peer's corruption. Stop the calls on other threads (a flag they check, then join them) before disposing.");
}
