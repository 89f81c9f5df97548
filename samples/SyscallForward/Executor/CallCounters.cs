using System.Globalization;
using System.Text;

namespace SyscallForward.Executor;

/// <summary>Calls per opcode (and the unknown and refused ones), counted exactly across threads.</summary>
public sealed class CallCounters
{
    private const int Known = 10; // UIPC_FWD_OPCODE_COUNT
    private readonly long[] _calls = new long[Known];
    private readonly long[] _failures = new long[Known];
    private long _unknown;
    private long _refused;

    /// <summary>Calls of <paramref name="opcode"/> so far.</summary>
    public long Calls(ForwardOpcode opcode) => (int)opcode < Known ? Volatile.Read(ref _calls[(int)opcode]) : 0;

    /// <summary>Calls of <paramref name="opcode"/> that answered -errno.</summary>
    public long Failures(ForwardOpcode opcode) => (int)opcode < Known ? Volatile.Read(ref _failures[(int)opcode]) : 0;

    /// <summary>Calls with an opcode the server does not know (answered ENOSYS).</summary>
    public long Unknown => Volatile.Read(ref _unknown);

    /// <summary>Calls of a known opcode left out of the allow-list (answered EPERM).</summary>
    public long Refused => Volatile.Read(ref _refused);

    /// <summary>Every call counted.</summary>
    public long Total => _calls.Sum() + Unknown + Refused;

    /// <summary>One line per opcode called, for the server's log.</summary>
    /// <param name="unknownElsewhere">
    /// The transport answered unknown opcodes itself (the RPC server answers ENOSYS before a call
    /// reaches the executor, and counts them): their count, to show in place of the executor's own.
    /// </param>
    public string Format(long? unknownElsewhere = null)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < Known; i++)
        {
            long calls = Volatile.Read(ref _calls[i]);
            if (calls != 0)
            {
                sb.Append(CultureInfo.InvariantCulture, $"  {((ForwardOpcode)i).ToString().ToLowerInvariant(),-7} {calls,10} calls {Volatile.Read(ref _failures[i]),8} failed\n");
            }
        }

        sb.Append(CultureInfo.InvariantCulture, $"  unknown {unknownElsewhere ?? Unknown,10} calls (ENOSYS)\n  refused {Refused,10} calls (EPERM, not allowed)");
        return sb.ToString();
    }

    internal void Count(int opcode, long result)
    {
        Interlocked.Increment(ref _calls[opcode]);
        if (result < 0)
        {
            Interlocked.Increment(ref _failures[opcode]);
        }
    }

    internal void CountUnknown() => Interlocked.Increment(ref _unknown);

    internal void CountRefused() => Interlocked.Increment(ref _refused);
}
