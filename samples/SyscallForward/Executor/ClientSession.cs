namespace SyscallForward.Executor;

/// <summary>
/// One connected client of a <see cref="SyscallExecutor"/>: its descriptor table and how many
/// calls it made. Created by <see cref="SyscallExecutor.Connect"/>, ended by
/// <see cref="SyscallExecutor.Disconnect"/> (which closes its descriptors).
/// </summary>
public sealed class ClientSession
{
    // The thread that connected the client counts with plain stores (the RPC server connects a
    // client on its session thread, which runs its non-blocking calls); any other thread (a
    // worker running a blocking call) counts with an atomic increment.
    private readonly int _homeThread = Environment.CurrentManagedThreadId;
    private long _homeCalls;
    private long _otherCalls;

    internal ClientSession(int id, string description, DescriptorTable descriptors)
    {
        Id = id;
        Description = description;
        Descriptors = descriptors;
    }

    /// <summary>The server's number for this client (for logs).</summary>
    public int Id { get; }

    /// <summary>Who the client is (pid, uid, transport), for logs.</summary>
    public string Description { get; }

    /// <summary>The client's own descriptors.</summary>
    public DescriptorTable Descriptors { get; }

    /// <summary>Calls this client made.</summary>
    public long Calls => Volatile.Read(ref _homeCalls) + Volatile.Read(ref _otherCalls);

    internal void CountCall()
    {
        if (Environment.CurrentManagedThreadId == _homeThread)
        {
            Volatile.Write(ref _homeCalls, _homeCalls + 1); // one writer: release for readers
        }
        else
        {
            Interlocked.Increment(ref _otherCalls);
        }
    }
}
