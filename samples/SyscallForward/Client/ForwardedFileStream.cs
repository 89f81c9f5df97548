namespace SyscallForward.Client;

/// <summary>
/// A file of the forwarding server as a <see cref="Stream"/>: reads and writes are forwarded
/// calls (asynchronous ones for the async methods), seeking is a forwarded lseek, the length a
/// forwarded fstat. Writes loop over short writes. Dispose closes the forwarded descriptor.
/// Not thread-safe (as <see cref="FileStream"/>).
/// </summary>
public sealed class ForwardedFileStream : Stream
{
    private readonly ForwardClient _client;
    private readonly FileAccess _access;
    private int _fd;

    internal ForwardedFileStream(ForwardClient client, int fd, FileAccess access)
    {
        _client = client;
        _fd = fd;
        _access = access;
    }

    /// <summary>The client's descriptor of the file (-1 once disposed).</summary>
    public int Descriptor => _fd;

    /// <inheritdoc />
    public override bool CanRead => _fd >= 0 && _access.HasFlag(FileAccess.Read);

    /// <inheritdoc />
    public override bool CanWrite => _fd >= 0 && _access.HasFlag(FileAccess.Write);

    /// <inheritdoc />
    public override bool CanSeek => _fd >= 0;

    /// <inheritdoc />
    public override long Length => _client.Stat(Fd).FileSize;

    /// <inheritdoc />
    public override long Position
    {
        get => _client.Seek(Fd, 0, SeekOrigin.Current);
        set => _client.Seek(Fd, value, SeekOrigin.Begin);
    }

    private int Fd
    {
        get
        {
            ObjectDisposedException.ThrowIf(_fd < 0, this);
            return _fd;
        }
    }

    /// <inheritdoc />
    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    /// <inheritdoc />
    public override int Read(Span<byte> buffer) => buffer.IsEmpty ? 0 : _client.Read(Fd, buffer);

    /// <inheritdoc />
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <inheritdoc />
    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        => buffer.IsEmpty ? ValueTask.FromResult(0) : _client.ReadAsync(Fd, buffer, cancellationToken);

    /// <inheritdoc />
    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    /// <inheritdoc />
    public override void Write(ReadOnlySpan<byte> buffer)
    {
        while (!buffer.IsEmpty)
        {
            buffer = buffer[NonZero(_client.Write(Fd, buffer))..];
        }
    }

    /// <inheritdoc />
    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <inheritdoc />
    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (!buffer.IsEmpty)
        {
            buffer = buffer[NonZero(await _client.WriteAsync(Fd, buffer, cancellationToken).ConfigureAwait(false))..];
        }
    }

    // A write of some bytes that wrote none would repeat for ever (the server's executor waits for
    // room instead of answering 0): end the loop with an error rather than spin on a broken server.
    private static int NonZero(int written) => written > 0 ? written : throw new IOException("The forwarded write wrote 0 bytes of a non-empty buffer; the server broke uintripc_fwd.h.");

    /// <inheritdoc />
    public override long Seek(long offset, SeekOrigin origin) => _client.Seek(Fd, offset, origin);

    /// <inheritdoc />
    public override void Flush()
    {
        // Nothing buffered here: every write is forwarded at once.
    }

    /// <inheritdoc />
    public override void SetLength(long value) => throw new NotSupportedException("The forwarding protocol has no ftruncate.");

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        int fd = Interlocked.Exchange(ref _fd, -1);
        if (disposing && fd >= 0)
        {
            try
            {
                _client.Close(fd);
            }
            catch (Exception e) when (e is UintrIpc.UintrIpcException or TimeoutException or ObjectDisposedException)
            {
                // The session is gone (the server closed its descriptors) or stalled: nothing left to close here.
            }
        }

        base.Dispose(disposing);
    }
}
