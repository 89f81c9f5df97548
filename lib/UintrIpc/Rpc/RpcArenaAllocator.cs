namespace UintrIpc.Rpc;

/// <summary>
/// The client's private bookkeeping of its arena (uintripc_rpc.h section 4): first fit over a
/// sorted list of free extents, in units of <see cref="RpcLayout.ArenaAlignment"/> bytes, with
/// neighbours merged on free. Nothing of it is in shared memory, so the server cannot steer it.
/// With at most <c>maxBlocks</c> blocks allocated there are at most <c>maxBlocks + 1</c> free
/// extents, so the arrays never grow and no call allocates. Not thread-safe (the client holds a lock).
/// </summary>
internal sealed class RpcArenaAllocator
{
    private const int Unit = RpcLayout.ArenaAlignment;

    private readonly long[] _start;
    private readonly long[] _length;
    private int _count;

    internal RpcArenaAllocator(long arenaLength, int maxBlocks)
    {
        _start = new long[maxBlocks + 1];
        _length = new long[maxBlocks + 1];
        Capacity = arenaLength / Unit * Unit;
        if (Capacity > 0)
        {
            _length[0] = Capacity / Unit;
            _count = 1;
        }

        FreeBytes = Capacity;
    }

    /// <summary>Usable bytes.</summary>
    internal long Capacity { get; }

    /// <summary>Bytes not allocated (possibly in several pieces).</summary>
    internal long FreeBytes { get; private set; }

    /// <summary>Free extents (for tests).</summary>
    internal int ExtentCount => _count;

    /// <summary>Takes a block of at least <paramref name="bytes"/> (&gt; 0) bytes; false when no free extent is large enough.</summary>
    internal bool TryAllocate(long bytes, out long offset)
    {
        long units = (bytes + Unit - 1) / Unit;
        for (int i = 0; i < _count; i++)
        {
            if (_length[i] >= units)
            {
                offset = _start[i] * Unit;
                _start[i] += units;
                _length[i] -= units;
                if (_length[i] == 0)
                {
                    Array.Copy(_start, i + 1, _start, i, _count - i - 1);
                    Array.Copy(_length, i + 1, _length, i, _count - i - 1);
                    _count--;
                }

                FreeBytes -= units * Unit;
                return true;
            }
        }

        offset = 0;
        return false;
    }

    /// <summary>Gives back a block taken with <see cref="TryAllocate"/> (same offset and byte count).</summary>
    internal void Free(long offset, long bytes)
    {
        long start = offset / Unit;
        long units = (bytes + Unit - 1) / Unit;
        int i = 0;
        while (i < _count && _start[i] < start)
        {
            i++;
        }

        bool mergesLeft = i > 0 && _start[i - 1] + _length[i - 1] == start;
        bool mergesRight = i < _count && start + units == _start[i];
        if (mergesLeft && mergesRight)
        {
            _length[i - 1] += units + _length[i];
            Array.Copy(_start, i + 1, _start, i, _count - i - 1);
            Array.Copy(_length, i + 1, _length, i, _count - i - 1);
            _count--;
        }
        else if (mergesLeft)
        {
            _length[i - 1] += units;
        }
        else if (mergesRight)
        {
            _start[i] = start;
            _length[i] += units;
        }
        else
        {
            Array.Copy(_start, i, _start, i + 1, _count - i);
            Array.Copy(_length, i, _length, i + 1, _count - i);
            _start[i] = start;
            _length[i] = units;
            _count++;
        }

        FreeBytes += units * Unit;
    }
}
