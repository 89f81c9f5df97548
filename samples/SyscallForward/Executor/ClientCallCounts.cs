namespace SyscallForward.Executor;

/// <summary>
/// The calls of one client, by opcode, exact across threads without an atomic instruction on
/// the usual path: the thread that connected the client counts with plain stores (the RPC
/// server connects a client on its session thread, which runs its non-blocking calls); any
/// other thread (a worker running a blocking call) counts with an atomic increment.
/// </summary>
internal sealed class ClientCallCounts
{
    /// <summary>Opcodes counted one by one (UIPC_FWD_OPCODE_COUNT).</summary>
    internal const int Known = 10;
    private const int FailuresAt = Known;
    private const int AllAt = 2 * Known;

    private readonly int _homeThread = Environment.CurrentManagedThreadId;
    private readonly long[] _home = new long[AllAt + 1];
    private readonly long[] _other = new long[AllAt + 1];

    /// <summary>Every call of the client, known opcode or not.</summary>
    internal long All => Read(AllAt);

    internal long Calls(int opcode) => Read(opcode);

    internal long Failures(int opcode) => Read(FailuresAt + opcode);

    internal void CountCall() => Add(AllAt);

    /// <summary>A call of a known <paramref name="opcode"/> that returned <paramref name="result"/>.</summary>
    internal void Count(int opcode, long result)
    {
        Add(opcode);
        if (result < 0)
        {
            Add(FailuresAt + opcode);
        }
    }

    private void Add(int index)
    {
        if (Environment.CurrentManagedThreadId == _homeThread)
        {
            Volatile.Write(ref _home[index], _home[index] + 1); // one writer: release for readers
        }
        else
        {
            Interlocked.Increment(ref _other[index]);
        }
    }

    private long Read(int index) => Volatile.Read(ref _home[index]) + Volatile.Read(ref _other[index]);
}
