using System.Globalization;
using System.Text;

namespace SyscallForward.Executor;

/// <summary>Calls per opcode (and the unknown and refused ones), counted exactly across threads.</summary>
/// <remarks>
/// One shard of counts per counting thread, written with plain stores by that thread only, so
/// a call costs no atomic instruction (a server thread answers a call in a few hundred
/// nanoseconds; two locked increments were a tenth of it). Readers add the shards up.
/// </remarks>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The ThreadLocal holds managed shards only; the counts stay readable for as long as the counters are (logs read them after the server stopped).")]
public sealed class CallCounters
{
    private const int Known = 10; // UIPC_FWD_OPCODE_COUNT
    private readonly ThreadLocal<Shard> _shards = new(() => new Shard(), trackAllValues: true); // shards outlive their threads
    private long _unknown;
    private long _refused;

    /// <summary>Calls of <paramref name="opcode"/> so far.</summary>
    public long Calls(ForwardOpcode opcode) => (int)opcode < Known ? Sum(s => s.Calls, (int)opcode) : 0;

    /// <summary>Calls of <paramref name="opcode"/> that answered -errno.</summary>
    public long Failures(ForwardOpcode opcode) => (int)opcode < Known ? Sum(s => s.Failures, (int)opcode) : 0;

    /// <summary>Calls with an opcode the server does not know (answered ENOSYS).</summary>
    public long Unknown => Volatile.Read(ref _unknown);

    /// <summary>Calls of a known opcode left out of the allow-list (answered EPERM).</summary>
    public long Refused => Volatile.Read(ref _refused);

    /// <summary>Every call counted.</summary>
    public long Total => Enumerable.Range(0, Known).Sum(i => Sum(s => s.Calls, i)) + Unknown + Refused;

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
            long calls = Sum(s => s.Calls, i);
            if (calls != 0)
            {
                sb.Append(CultureInfo.InvariantCulture, $"  {((ForwardOpcode)i).ToString().ToLowerInvariant(),-7} {calls,10} calls {Sum(s => s.Failures, i),8} failed\n");
            }
        }

        sb.Append(CultureInfo.InvariantCulture, $"  unknown {unknownElsewhere ?? Unknown,10} calls (ENOSYS)\n  refused {Refused,10} calls (EPERM, not allowed)");
        return sb.ToString();
    }

    internal void Count(int opcode, long result)
    {
        Shard shard = _shards.Value!;
        // One writer per shard (this thread): plain increments, released for readers.
        Volatile.Write(ref shard.Calls[opcode], shard.Calls[opcode] + 1);
        if (result < 0)
        {
            Volatile.Write(ref shard.Failures[opcode], shard.Failures[opcode] + 1);
        }
    }

    internal void CountUnknown() => Interlocked.Increment(ref _unknown);

    internal void CountRefused() => Interlocked.Increment(ref _refused);

    private long Sum(Func<Shard, long[]> counts, int opcode)
    {
        long sum = 0;
        foreach (Shard shard in _shards.Values)
        {
            sum += Volatile.Read(ref counts(shard)[opcode]);
        }

        return sum;
    }

    /// <summary>The counts of one thread.</summary>
    private sealed class Shard
    {
        internal readonly long[] Calls = new long[Known];
        internal readonly long[] Failures = new long[Known];
    }
}
