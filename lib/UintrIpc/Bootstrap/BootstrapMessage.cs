using UintrIpc.Interop;
using UintrIpc.Memory;

namespace UintrIpc.Bootstrap;

/// <summary>
/// One received bootstrap message: the payload bytes and the descriptors that came with it.
/// The message owns the descriptors until you take them with <see cref="TakeFd"/>;
/// <see cref="Dispose"/> closes every descriptor not taken, so none leaks.
/// </summary>
internal sealed class BootstrapMessage : IDisposable
{
    /// <summary>The largest payload of one message, in bytes.</summary>
    public const int MaxPayloadLength = 16 * 1024;

    /// <summary>The most descriptors one message carries.</summary>
    public const int MaxFds = 16;

    private readonly SafeFdHandle?[] _fds;

    internal BootstrapMessage(byte[] payload, SafeFdHandle[] fds)
    {
        Payload = payload;
        _fds = fds;
    }

    /// <summary>The payload (a copy owned by this message).</summary>
    public ReadOnlyMemory<byte> Payload { get; }

    /// <summary>How many descriptors arrived with the message.</summary>
    public int FdCount => _fds.Length;

    /// <summary>Takes descriptor <paramref name="index"/>: from now on the caller owns (and disposes) it.</summary>
    /// <exception cref="InvalidOperationException">It was taken already, or the message is disposed.</exception>
    public SafeFdHandle TakeFd(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, _fds.Length);
        return Interlocked.Exchange(ref _fds[index], null)
            ?? throw new InvalidOperationException($"Descriptor {index} of this bootstrap message was already taken (or the message was disposed).");
    }

    /// <summary>Takes descriptor <paramref name="index"/>, which the peer says is an eventfd (a doorbell), after checking that it is one.</summary>
    /// <exception cref="BootstrapProtocolException">It is something else (a pipe, a file, a socket): it stays with the message, which closes it.</exception>
    public SafeFdHandle TakeEventFd(int index, string endpoint)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, _fds.Length);
        if (_fds[index] is { } fd && Signaling.EventFdDoorbellSender.NotAnEventFd(fd.Fd) is { } target)
        {
            throw new BootstrapProtocolException(endpoint, $"descriptor {index} should be an eventfd (the doorbell) but is '{target}'");
        }

        return TakeFd(index);
    }

    /// <summary>
    /// Attaches to the shared region whose memfd is descriptor <paramref name="index"/> (as sent by
    /// <see cref="BootstrapConnection.SendRegion(SharedRegion)"/>). The region keeps its own duplicate, so the
    /// message still owns (and on Dispose closes) the received descriptor.
    /// </summary>
    /// <exception cref="RegionFormatException">The descriptor is not a valid UintrIpc region.</exception>
    public SharedRegion AttachRegion(int index = 0, TimeSpan? initTimeout = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, _fds.Length);
        var fd = Volatile.Read(ref _fds[index])
            ?? throw new InvalidOperationException($"Descriptor {index} of this bootstrap message was already taken (or the message was disposed).");
        return SharedRegion.Attach(fd, initTimeout);
    }

    /// <summary>Closes every descriptor that was not taken. Idempotent.</summary>
    public void Dispose()
    {
        for (int i = 0; i < _fds.Length; i++)
        {
            Interlocked.Exchange(ref _fds[i], null)?.Dispose();
        }
    }
}
