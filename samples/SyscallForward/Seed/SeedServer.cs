using System.Buffers.Binary;
using System.Diagnostics;
using SyscallForward.Executor;

namespace SyscallForward.Seed;

/// <summary>
/// Serves a v1 queue page in place of the original Linux-side program ("hello" of
/// reference/seed-protocol.md §2.3), without its faults: every value read from the page is
/// checked, every request with a descriptor gets exactly one answer (unknown opcodes -ENOSYS,
/// bad offsets -EFAULT, the full 64-bit result), the shared lock is only ever tried for a
/// bounded time, and a restart resumes at the response index instead of replaying.
/// Single-threaded: <see cref="Run"/> serves on the calling thread.
/// </summary>
internal sealed class SeedServer
{
    private const byte OpNop = 0, OpRead = 1, OpWrite = 2, OpOpen = 3, OpClose = 4; // enum uipc_seed_opcode
    private const int EFAULT = 14, ENAMETOOLONG = 36;
    private const int AtRoot = -100;
    private static readonly TimeSpan s_lockBudget = TimeSpan.FromMilliseconds(1);
    private static readonly TimeSpan s_lockWarning = TimeSpan.FromSeconds(5);

    private readonly SeedQueuePage _page;
    private readonly SyscallExecutor _executor;
    private readonly ClientSession _rtos;
    private readonly TextWriter _log;
    private readonly Request[] _answers;
    private readonly bool[] _inBatch;
    private readonly long[] _args = new long[3];
    private readonly byte[] _argCopy = new byte[24];
    private int _answerCount;
    private ushort _requestCursor;
    private ushort _responseIndex;
    private long _lockMissSince;

    /// <summary>Creates a server of <paramref name="page"/>; the RTOS side is one client of <paramref name="executor"/>.</summary>
    public SeedServer(SeedQueuePage page, SyscallExecutor executor, TextWriter log)
    {
        _page = page;
        _executor = executor;
        _log = log;
        _answers = new Request[page.Capacity];
        _inBatch = new bool[page.Capacity];
        _rtos = executor.Connect($"RTOS side of the v1 queue page (capacity {page.Capacity})");

        // Resume where the previous server stopped: every request before rsp_index was answered.
        // (hello started at 0 and replayed the whole ring after a restart, §4.12.)
        _responseIndex = page.ReadResponseIndex();
        _requestCursor = _responseIndex;
    }

    /// <summary>What the server saw.</summary>
    public SeedStatistics Statistics { get; } = new();

    /// <summary>
    /// Serves until <paramref name="stop"/> is cancelled: drains the ring, then waits for signal
    /// <paramref name="signal"/> (thread-directed, as v1's driver sent it) for at most
    /// <paramref name="pollInterval"/>; 0 for no signal (polling only).
    /// </summary>
    /// <param name="signal">The real-time signal the RTOS side raises, or 0.</param>
    /// <param name="pollInterval">The longest wait between two looks at the ring.</param>
    /// <param name="ready">Called once with (pid, tid) when the server is ready to be signalled.</param>
    /// <param name="stop">Ends the loop (within one poll interval).</param>
    public void Run(int signal, TimeSpan pollInterval, Action<int, int> ready, CancellationToken stop)
    {
        var notification = signal != 0 ? new SeedNotification(signal) : null;
        ready(Environment.ProcessId, notification?.ThreadId ?? 0);
        while (!stop.IsCancellationRequested)
        {
            DrainOnce();
            if (notification is not null)
            {
                if (notification.Wait(pollInterval))
                {
                    Statistics.Notifications++;
                }
            }
            else
            {
                stop.WaitHandle.WaitOne(pollInterval);
            }
        }

        DrainOnce();
        _executor.Disconnect(_rtos, "server stopping");
    }

    /// <summary>One round: publishes answers still owed, takes every pending request, executes, answers. Returns requests answered.</summary>
    internal int DrainOnce()
    {
        if (!PublishAnswers())
        {
            return 0; // the lock is busy: answers stay owed, no new requests until they are out
        }

        int taken = TakeRequests();
        for (int i = 0; i < _answerCount; i++)
        {
            ref Request request = ref _answers[i];
            request.Result = Serve(request.Opcode, request.Args);
            _inBatch[request.Index] = false;
        }

        PublishAnswers();
        return taken;
    }

    private int TakeRequests()
    {
        if (!LockBounded())
        {
            return 0;
        }

        try
        {
            ushort produced = _page.ReadRequestIndex();
            int pending = (ushort)(produced - _requestCursor);
            if (pending > _page.Capacity)
            {
                // More requests than descriptors: the indices are corrupt. Skip to the producer's index
                // rather than guess which entries are real.
                Statistics.RingViolations++;
                _log.WriteLine($"seed: request index {produced} is {pending} ahead of ours ({_requestCursor}), more than the {_page.Capacity} descriptors; skipping to it");
                _requestCursor = produced;
                return 0;
            }

            for (int i = 0; i < pending; i++)
            {
                ushort index = _page.ReadRequestEntry(_requestCursor++);
                if (index >= _page.Capacity)
                {
                    Statistics.BadIndices++; // consumed, not answered: there is no descriptor to answer in
                    continue;
                }

                if (_inBatch[index])
                {
                    Statistics.Duplicates++; // the same descriptor twice before its answer
                    continue;
                }

                // Copied under the lock, once: the RTOS wrote it before its unlock.
                var (valid, opcode, args) = _page.ReadDescriptor(index);
                if (valid == 0)
                {
                    Statistics.Stale++; // freed by the RTOS (answered before a restart, or never allocated)
                    continue;
                }

                _inBatch[index] = true;
                _answers[_answerCount++] = new Request { Index = index, Opcode = opcode, Args = args };
            }

            Statistics.Requests += _answerCount;
            return _answerCount;
        }
        finally
        {
            _page.Unlock();
        }
    }

    private bool PublishAnswers()
    {
        if (_answerCount == 0)
        {
            return true;
        }

        if (!LockBounded())
        {
            return false;
        }

        try
        {
            for (int i = 0; i < _answerCount; i++)
            {
                _page.WriteResult(_answers[i].Index, _answers[i].Result);
                _page.WriteResponseEntry(_responseIndex++, _answers[i].Index);
            }

            _page.PublishResponseIndex(_responseIndex);
            Statistics.Answered += _answerCount;
            _answerCount = 0;
            return true;
        }
        finally
        {
            _page.Unlock();
        }
    }

    private bool LockBounded()
    {
        if (_page.TryLock(s_lockBudget))
        {
            _lockMissSince = 0;
            return true;
        }

        Statistics.LockTimeouts++;
        long now = Stopwatch.GetTimestamp();
        if (_lockMissSince == 0)
        {
            _lockMissSince = now;
        }
        else if (Stopwatch.GetElapsedTime(_lockMissSince, now) > s_lockWarning)
        {
            _log.WriteLine($"seed: the shared lock has been held for more than {s_lockWarning.TotalSeconds} s; is the RTOS side stuck?");
            _lockMissSince = now;
        }

        return false;
    }

    /// <summary>Executes one v1 request; every offset is checked against the data buffer first.</summary>
    private long Serve(byte opcode, ulong argsOffset)
    {
        Span<byte> data = _page.Data;
        switch (opcode)
        {
            case OpNop:
                return _executor.Execute(_rtos, (uint)ForwardOpcode.Nop, default, default, default);
            case OpRead:
            case OpWrite:
            {
                // struct uipc_seed_rw_args: fd u32 @0, buf_offset u64 @8, len u64 @16. Copied once.
                if (!TryArgs(data, argsOffset, 24, out var args))
                {
                    return Fault();
                }

                uint fd = BinaryPrimitives.ReadUInt32LittleEndian(args);
                ulong offset = BinaryPrimitives.ReadUInt64LittleEndian(args[8..]);
                ulong length = BinaryPrimitives.ReadUInt64LittleEndian(args[16..]);
                if (length > (ulong)data.Length || offset > (ulong)data.Length - length)
                {
                    return Fault();
                }

                Span<byte> buffer = data.Slice((int)offset, (int)length);
                _args[0] = fd;
                return opcode == OpRead
                    ? _executor.Execute(_rtos, (uint)ForwardOpcode.Read, _args.AsSpan(0, 1), default, buffer)
                    : _executor.Execute(_rtos, (uint)ForwardOpcode.Write, _args.AsSpan(0, 1), buffer, default);
            }

            case OpOpen:
            {
                // struct uipc_seed_open_args: path_offset u64 @0, flags u32 @8, mode u32 @12.
                if (!TryArgs(data, argsOffset, 16, out var args))
                {
                    return Fault();
                }

                ulong pathOffset = BinaryPrimitives.ReadUInt64LittleEndian(args);
                if (pathOffset >= (ulong)data.Length)
                {
                    return Fault();
                }

                // The path ends at its NUL, which must lie inside the buffer and within PATH_MAX.
                Span<byte> window = data[(int)pathOffset..];
                window = window[..Math.Min(window.Length, ConfinedDirectory.PathMax + 1)];
                int end = window.IndexOf((byte)0);
                if (end < 0)
                {
                    return window.Length > ConfinedDirectory.PathMax ? -ENAMETOOLONG : Fault();
                }

                _args[0] = AtRoot;
                _args[1] = BinaryPrimitives.ReadUInt32LittleEndian(args[8..]);
                _args[2] = BinaryPrimitives.ReadUInt32LittleEndian(args[12..]);
                return _executor.Execute(_rtos, (uint)ForwardOpcode.OpenAt, _args, window[..end], default);
            }

            case OpClose:
            {
                if (!TryArgs(data, argsOffset, 4, out var args))
                {
                    return Fault();
                }

                _args[0] = BinaryPrimitives.ReadUInt32LittleEndian(args);
                return _executor.Execute(_rtos, (uint)ForwardOpcode.Close, _args.AsSpan(0, 1), default, default);
            }

            default:
                return _executor.Execute(_rtos, uint.MaxValue, default, default, default); // counted as unknown: -ENOSYS
        }
    }

    private long Fault()
    {
        Statistics.Faults++;
        return -EFAULT;
    }

    /// <summary>Copies the argument struct at <paramref name="offset"/> out of the data buffer, if it lies inside.</summary>
    private bool TryArgs(ReadOnlySpan<byte> data, ulong offset, int size, out ReadOnlySpan<byte> args)
    {
        if (offset > (ulong)(data.Length - size))
        {
            args = default;
            return false;
        }

        Span<byte> copy = _argCopy.AsSpan(0, size);
        data.Slice((int)offset, size).CopyTo(copy);
        args = copy;
        return true;
    }

    /// <summary>A request taken from the ring: its descriptor, copied, and its answer.</summary>
    private struct Request
    {
        public ushort Index;
        public byte Opcode;
        public ulong Args;
        public long Result;
    }
}
