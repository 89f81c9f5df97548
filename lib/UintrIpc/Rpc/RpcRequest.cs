namespace UintrIpc.Rpc;

/// <summary>
/// One request as a handler sees it: the opcode, the inline arguments, and the call's data
/// block in the session's arena (input first, output written over it, as a syscall buffer).
/// </summary>
/// <remarks>
/// <see cref="Input"/> and <see cref="Output"/> are views of shared memory that the client
/// can change at any time: copy what you validate (a path, a length) before relying on it.
/// Both lie inside the arena (the server checked the block), and they are valid only during
/// the handler call.
/// </remarks>
public ref struct RpcRequest
{
    private readonly Span<byte> _block;
    private readonly int _inLength;
    private readonly int _outCapacity;
    private int _outputLength;

    internal RpcRequest(RpcSession session, uint opcode, in RpcArgs args, Span<byte> block, int inLength, int outCapacity)
    {
        Session = session;
        Opcode = opcode;
        Args = args;
        _block = block;
        _inLength = inLength;
        _outCapacity = outCapacity;
    }

    /// <summary>The client's session (its credentials and the application's per-session state).</summary>
    public RpcSession Session { get; }

    /// <summary>The opcode the handler was registered for.</summary>
    public uint Opcode { get; }

    /// <summary>The four inline arguments.</summary>
    public RpcArgs Args { get; }

    /// <summary>The input bytes (shared memory: copy what you validate).</summary>
    public readonly ReadOnlySpan<byte> Input => _block[.._inLength];

    /// <summary>Where the output goes: as many bytes as the client accepts. Set <see cref="OutputLength"/> after writing.</summary>
    public readonly Span<byte> Output => _block[.._outCapacity];

    /// <summary>How many bytes of <see cref="Output"/> the handler wrote (sent only with a result of 0 or more).</summary>
    /// <exception cref="ArgumentOutOfRangeException">Negative or larger than <see cref="Output"/>.</exception>
    public int OutputLength
    {
        readonly get => _outputLength;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, _outCapacity);
            _outputLength = value;
        }
    }
}
