namespace SyscallForward.Executor;

/// <summary>What a <see cref="SyscallExecutor"/> allows.</summary>
public sealed record ExecutorOptions
{
    /// <summary>The opcodes served; the others of the table are answered EPERM. Default: all.</summary>
    public IReadOnlySet<ForwardOpcode> Allowed { get; init; } = Enum.GetValues<ForwardOpcode>().ToHashSet();

    /// <summary>Descriptors one client may hold (EMFILE beyond). Default 256.</summary>
    public int MaxDescriptorsPerClient { get; init; } = 256;

    /// <summary>Whether each client gets the server's stdout as descriptor 1 (UIPC_FWD_FD_STDOUT). Default true.</summary>
    public bool GrantStdout { get; init; } = true;

    /// <summary>Where connects and disconnects are logged; null for nowhere.</summary>
    public TextWriter? Log { get; init; }
}
