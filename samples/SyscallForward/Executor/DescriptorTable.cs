namespace SyscallForward.Executor;

/// <summary>
/// One client's descriptors: small numbers that mean something only to this client, each
/// mapped to a server descriptor it opened or was granted. A call takes a reference on the
/// handle under the table's lock, so a concurrent close cannot let the kernel reuse the number
/// for another client's file while the call still uses it (the close happens when the last
/// reference goes).
/// </summary>
internal sealed class DescriptorTable
{
    private readonly object _lock = new();
    private readonly DescriptorHandle?[] _entries;
    private readonly bool[] _granted;
    private bool _closed;

    /// <summary>Creates an empty table of at most <paramref name="capacity"/> descriptors.</summary>
    public DescriptorTable(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _entries = new DescriptorHandle?[capacity];
        _granted = new bool[capacity];
    }

    /// <summary>How many descriptors the table holds.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _entries.Count(e => e is not null);
            }
        }
    }

    /// <summary>Puts a server descriptor the server keeps (its stdout) at number <paramref name="number"/>; not closed by the client.</summary>
    public void Grant(int number, int serverFd)
    {
        lock (_lock)
        {
            _entries[number]?.Dispose();
            _entries[number] = new DescriptorHandle(serverFd, ownsHandle: false);
            _granted[number] = true;
        }
    }

    /// <summary>Adds a descriptor the table then owns at the lowest free number; returns it, or -EMFILE (the handle is then closed).</summary>
    public int Add(DescriptorHandle handle)
    {
        lock (_lock)
        {
            if (!_closed)
            {
                for (int i = 0; i < _entries.Length; i++)
                {
                    if (_entries[i] is null)
                    {
                        _entries[i] = handle;
                        return i;
                    }
                }
            }
        }

        handle.Dispose();
        return -Errno.EMFILE;
    }

    /// <summary>Takes a reference on descriptor <paramref name="number"/>; the caller must call DangerousRelease on it.</summary>
    public bool TryAcquire(long number, out DescriptorHandle handle)
    {
        lock (_lock)
        {
            if (number >= 0 && number < _entries.Length && _entries[number] is { } entry)
            {
                bool added = false;
                entry.DangerousAddRef(ref added);
                if (added)
                {
                    handle = entry;
                    return true;
                }
            }
        }

        handle = null!;
        return false;
    }

    /// <summary>Removes descriptor <paramref name="number"/> (closing it once no call uses it); 0 or -EBADF.</summary>
    public int Remove(long number)
    {
        DescriptorHandle? entry;
        lock (_lock)
        {
            if (number < 0 || number >= _entries.Length || _entries[number] is null)
            {
                return -Errno.EBADF;
            }

            entry = _entries[number];
            _entries[number] = null;
            _granted[number] = false;
        }

        entry!.Dispose();
        return 0;
    }

    /// <summary>Closes every descriptor and refuses new ones; returns how many the client had opened (grants not counted).</summary>
    public int CloseAll()
    {
        var taken = new List<DescriptorHandle>();
        int opened = 0;
        lock (_lock)
        {
            _closed = true;
            for (int i = 0; i < _entries.Length; i++)
            {
                if (_entries[i] is { } e)
                {
                    taken.Add(e);
                    opened += _granted[i] ? 0 : 1;
                    _entries[i] = null;
                    _granted[i] = false;
                }
            }
        }

        foreach (var e in taken)
        {
            e.Dispose();
        }

        return opened;
    }
}
