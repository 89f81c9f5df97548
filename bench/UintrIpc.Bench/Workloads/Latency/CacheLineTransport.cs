using System.Runtime.CompilerServices;

namespace UintrIpc.Bench.Workloads.Latency;

/// <summary>
/// One shared 64-bit word, both sides spinning: the pinger writes v &lt;&lt; 1 (even), the
/// echoer answers (v &lt;&lt; 1) | 1 (odd) on the same word. One cache line bounces per
/// direction: the floor of any shared-memory round trip, in .NET (c-spin-cacheline in C).
/// </summary>
internal unsafe struct CacheLineTransport : IPingTransport
{
    private readonly long* _line;
    private readonly bool _pinger;
    private readonly Deadline _deadline;
    private long _last;

    public CacheLineTransport(byte* line, bool pinger, Deadline deadline)
    {
        _line = (long*)line;
        _pinger = pinger;
        _deadline = deadline;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Send(long value)
        // Release: pairs with the other side's acquire load of the word.
        => Volatile.Write(ref *_line, _pinger ? value << 1 : (value << 1) | 1);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public long Receive()
    {
        int polls = 0;
        long x;
        if (_pinger)
        {
            // Acquire: the reply is odd.
            while (((x = Volatile.Read(ref *_line)) & 1) == 0)
            {
                Spin.Step(ref polls, _deadline, "the reply on the cache line");
            }
        }
        else
        {
            // Acquire: a new ping is even and differs from the last one.
            while (((x = Volatile.Read(ref *_line)) & 1) != 0 || x == _last)
            {
                Spin.Step(ref polls, _deadline, "a ping on the cache line");
            }

            _last = x;
        }

        return x >> 1;
    }

    public long ReceiveIdle()
    {
        // The echoer's side only: a new ping is even and differs from the last one (acquire).
        long x;
        while (((x = Volatile.Read(ref *_line)) & 1) != 0 || x == _last)
        {
            Spin.Idle(_deadline, "a ping on the cache line after a hold");
        }

        _last = x;
        return x >> 1;
    }
}
