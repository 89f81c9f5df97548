using UintrIpc.Memory;
using UintrIpc.Rings;

namespace UintrIpc.Channels;

/// <summary>
/// Thrown by a checked handler inside a ring's read, so that the ring counts the message as
/// consumed (a handler that throws does not get it again); the reader turns it into a
/// <see cref="RingCorruptedException"/> naming the position, which it knows only once the
/// read returned. Never leaves the library.
/// </summary>
internal sealed class ChecksumMismatchException(string detail, int recordBytes) : Exception(detail)
{
    /// <summary>Ring bytes the message occupied (message channels: to find its position from the head after it).</summary>
    public int RecordBytes { get; } = recordBytes;

    /// <summary>
    /// The error <paramref name="reader"/> reports for the message at <paramref name="position"/>; ObjectDisposedException
    /// when <paramref name="region"/>'s mapping was retired under the read (a Dispose on another thread: <see cref="RetiredMapping"/>).
    /// </summary>
    public Exception AtPosition(long position, SharedRegion region, object reader)
        => RetiredMapping.OrDisposed(region, reader.GetType().FullName, new RingCorruptedException("message checksum", position, Message));
}
