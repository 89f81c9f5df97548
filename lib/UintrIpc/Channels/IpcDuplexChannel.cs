using System.Diagnostics;
using UintrIpc.Memory;
using UintrIpc.Signaling;

namespace UintrIpc.Channels;

/// <summary>
/// Requests one way and responses the other over ONE shared region whose two rings interleave:
/// slot k of <see cref="Requests"/> and slot k of <see cref="Responses"/> share a cache line
/// (when both elements are at most 24 bytes, or together at most 48), so a synchronous
/// request/response exchange moves one line per round trip instead of one per direction.
/// Create it with <see cref="IpcChannel.CreateDuplex{TRequest, TResponse}"/> in the process that
/// answers requests; the process that sends them receives it with
/// <see cref="IpcChannel.ReceiveDuplexChannel{TRequest, TResponse}"/>.
/// </summary>
/// <typeparam name="TRequest">An unmanaged request type, the same layout in both processes.</typeparam>
/// <typeparam name="TResponse">An unmanaged response type, the same layout in both processes.</typeparam>
/// <remarks>
/// <para>Each direction is an ordinary single-writer <see cref="IpcChannel{T}"/>, with its own
/// reader, writer, doorbell and completion: completing <see cref="Requests"/> leaves
/// <see cref="Responses"/> open, so the answering side can respond to what was sent before.</para>
/// <para>The line is shared only while the exchange is in lockstep (one request outstanding, as a
/// synchronous call has); with many requests in flight it behaves like two channels. Layout:
/// interop/include/uintripc.h, sections 2h and 5.</para>
/// <para>Lifetime: disposing the duplex disposes both channels; the region is unmapped when every
/// reader, writer and operation in progress of either is done.</para>
/// </remarks>
/// <example>
/// <code>
/// using var duplex = IpcChannel.CreateDuplex&lt;long, long&gt;();
/// duplex.Requests.Writer.TryWrite(41);
/// long request = duplex.Requests.Reader.Read(TimeSpan.FromSeconds(1));
/// duplex.Responses.Writer.TryWrite(request + 1);
/// long response = duplex.Responses.Reader.Read(TimeSpan.FromSeconds(1)); // 42
/// </code>
/// </example>
[DebuggerDisplay("IpcDuplexChannel<{typeof(TRequest).Name,nq}, {typeof(TResponse).Name,nq}> {Doorbell}")]
public sealed class IpcDuplexChannel<TRequest, TResponse> : IDisposable
    where TRequest : unmanaged
    where TResponse : unmanaged
{
    private readonly SharedRegion _region;
    private int _disposed;
    /// <summary>Whether the duplex was handed to a peer (SendChannel): once, whatever the outcome.</summary>
    private int _handedOver;

    internal IpcDuplexChannel((SharedRegion Region, ChannelCore Requests, ChannelCore Responses) cores)
    {
        _region = cores.Region;
        IpcChannel<TRequest>? requests = null;
        try
        {
            // Each constructor checks its element size against the ring (and closes its core when it does not match).
            requests = new IpcChannel<TRequest>(cores.Requests);
        }
        catch
        {
            cores.Responses.Close();
            _region.Dispose();
            throw;
        }

        try
        {
            Responses = new IpcChannel<TResponse>(cores.Responses);
        }
        catch
        {
            requests.Dispose();
            _region.Dispose();
            throw;
        }

        Requests = requests;
    }

    /// <summary>The requests: written by the side that sends them, read by the side that answers.</summary>
    public IpcChannel<TRequest> Requests { get; }

    /// <summary>The responses: written by the side that answers, read by the side that sent the requests.</summary>
    public IpcChannel<TResponse> Responses { get; }

    /// <summary>Slots in each ring.</summary>
    public int Capacity => Requests.Capacity;

    /// <summary>The doorbell both readers sleep in (chosen when the duplex was created).</summary>
    public DoorbellKind Doorbell => Requests.Doorbell;

    /// <summary>The shared region (its descriptor is what a bootstrap hands over).</summary>
    internal SharedRegion Region => _region;

    /// <summary>
    /// Starts the one handover of this duplex (SendChannel): the region goes to one peer only,
    /// and the response writer must be the one made with that peer's doorbell.
    /// </summary>
    /// <exception cref="InvalidOperationException">It was handed over before, or <see cref="Requests"/> or <see cref="Responses"/> has a writer already.</exception>
    internal void BeginHandover()
    {
        if (Responses.HasWriter)
        {
            throw new InvalidOperationException("This duplex channel has a response writer already: it was used in this process, so it cannot be handed to a peer.");
        }

        if (Requests.HasWriter)
        {
            throw new InvalidOperationException("This duplex channel has a request writer already: it was used in this process, so it cannot be handed to a peer (its request ring has one writer).");
        }

        if (Interlocked.Exchange(ref _handedOver, 1) != 0)
        {
            throw new InvalidOperationException("This duplex channel was handed to a peer already (SendChannel); a duplex serves one peer: create one per peer.");
        }
    }

    /// <summary>
    /// The handover failed after the region may have reached the peer, so no response writer can
    /// be made with the peer's doorbell: later uses of <c>Responses.Writer</c> throw an
    /// <see cref="InvalidOperationException"/> naming <paramref name="cause"/>, and both directions
    /// are completed, so that a peer that attached sees the duplex end instead of waiting for answers.
    /// </summary>
    internal void FailHandover(Exception cause)
    {
        Responses.RefuseWriter(
            $"This duplex channel has no response writer: handing it to the peer failed ({cause.GetType().Name}: {cause.Message}), so the doorbell of the peer's " +
            "response reader never arrived. Both directions were completed; dispose this duplex and create a new one for the next peer.", cause);
        Requests.Core.TryComplete();
        Responses.Core.TryComplete();
    }

    /// <summary>
    /// Disposes both channels (their readers and writers, see <see cref="IpcChannel{T}.Dispose"/>)
    /// and releases this object's reference to the region. Idempotent.
    /// </summary>
    /// <exception cref="InvalidOperationException">Signal or uintr doorbell, called on another thread than a reader's (the rest was released).</exception>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            Requests.Dispose();
        }
        finally
        {
            try
            {
                Responses.Dispose();
            }
            finally
            {
                _region.Dispose();
            }
        }
    }
}
