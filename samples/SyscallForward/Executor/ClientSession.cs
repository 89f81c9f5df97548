using Microsoft.Win32.SafeHandles;

namespace SyscallForward.Executor;

/// <summary>
/// One connected client of a <see cref="SyscallExecutor"/>: its descriptor table and how many
/// calls it made. Created by <see cref="SyscallExecutor.Connect"/>, ended by
/// <see cref="SyscallExecutor.Disconnect"/> (which closes its descriptors).
/// </summary>
public sealed class ClientSession
{
    internal ClientSession(int id, string description, DescriptorTable descriptors, SafeFileHandle? process, CancellationToken closing)
    {
        Closing = closing;
        Id = id;
        Description = description;
        Descriptors = descriptors;
        Process = process;
    }

    /// <summary>A pidfd of the client's process (readable once it exits); null when none was given.</summary>
    internal SafeFileHandle? Process { get; }

    /// <summary>Cancelled when the client's session starts to end (the server stops, or the client breaks the protocol): a wait on its behalf ends then.</summary>
    internal CancellationToken Closing { get; }

    /// <summary>The server's number for this client (for logs).</summary>
    public int Id { get; }

    /// <summary>Who the client is (pid, uid, transport), for logs.</summary>
    public string Description { get; }

    /// <summary>The client's own descriptors.</summary>
    internal DescriptorTable Descriptors { get; }

    /// <summary>Calls this client made.</summary>
    public long Calls => Counts.All;

    /// <summary>Its calls by opcode (part of the executor's totals while it is connected).</summary>
    internal ClientCallCounts Counts { get; } = new();
}
