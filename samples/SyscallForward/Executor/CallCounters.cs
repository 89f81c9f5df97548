using System.Globalization;
using System.Text;

namespace SyscallForward.Executor;

/// <summary>Calls per opcode (and the unknown and refused ones), counted exactly across threads.</summary>
/// <remarks>
/// Each client counts its own calls (<see cref="ClientCallCounts"/>: no atomic instruction on
/// its session thread; a server thread answers a call in a few hundred nanoseconds, and two
/// locked increments were a tenth of it); these totals add up the connected clients and keep
/// the counts of those that disconnected.
/// </remarks>
public sealed class CallCounters
{
    private const int Known = ClientCallCounts.Known;
    private readonly Lock _lock = new();
    private readonly List<ClientCallCounts> _connected = [];
    private readonly long[] _pastCalls = new long[Known];
    private readonly long[] _pastFailures = new long[Known];
    private long _unknown;
    private long _refused;

    /// <summary>Calls of <paramref name="opcode"/> so far.</summary>
    public long Calls(ForwardOpcode opcode) => (int)opcode < Known ? Sum((int)opcode, failures: false) : 0;

    /// <summary>Calls of <paramref name="opcode"/> that answered -errno.</summary>
    public long Failures(ForwardOpcode opcode) => (int)opcode < Known ? Sum((int)opcode, failures: true) : 0;

    /// <summary>Calls with an opcode the server does not know (answered ENOSYS).</summary>
    public long Unknown => Volatile.Read(ref _unknown);

    /// <summary>Calls of a known opcode left out of the allow-list (answered EPERM).</summary>
    public long Refused => Volatile.Read(ref _refused);

    /// <summary>Every call counted.</summary>
    public long Total => Enumerable.Range(0, Known).Sum(i => Sum(i, failures: false)) + Unknown + Refused;

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
            long calls = Sum(i, failures: false);
            if (calls != 0)
            {
                sb.Append(CultureInfo.InvariantCulture, $"  {((ForwardOpcode)i).ToString().ToLowerInvariant(),-7} {calls,10} calls {Sum(i, failures: true),8} failed\n");
            }
        }

        sb.Append(CultureInfo.InvariantCulture, $"  unknown {unknownElsewhere ?? Unknown,10} calls (ENOSYS)\n  refused {Refused,10} calls (EPERM, not allowed)");
        return sb.ToString();
    }

    internal void CountUnknown() => Interlocked.Increment(ref _unknown);

    internal void CountRefused() => Interlocked.Increment(ref _refused);

    /// <summary>A client connected: its counts join the totals.</summary>
    internal void Add(ClientCallCounts client)
    {
        lock (_lock)
        {
            _connected.Add(client);
        }
    }

    /// <summary>A client disconnected (its calls are over): its counts stay in the totals, the object goes.</summary>
    internal void Retire(ClientCallCounts client)
    {
        lock (_lock)
        {
            if (_connected.Remove(client))
            {
                for (int i = 0; i < Known; i++)
                {
                    _pastCalls[i] += client.Calls(i);
                    _pastFailures[i] += client.Failures(i);
                }
            }
        }
    }

    private long Sum(int opcode, bool failures)
    {
        lock (_lock)
        {
            long sum = failures ? _pastFailures[opcode] : _pastCalls[opcode];
            foreach (ClientCallCounts client in _connected)
            {
                sum += failures ? client.Failures(opcode) : client.Calls(opcode);
            }

            return sum;
        }
    }
}
