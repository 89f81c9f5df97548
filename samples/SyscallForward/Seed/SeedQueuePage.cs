using System.Diagnostics;
using System.Text;
using Tmds.Linux;
using UintrIpc;

namespace SyscallForward.Seed;

/// <summary>
/// The original design's v1 queue page and data buffer, mapped from a file or device
/// (interop/include/uintripc_seed_v1.h is the layout; reference/seed-protocol.md §1.2 its source).
/// Only the server's side: it reads the request ring and descriptors, writes results, the
/// response ring and rsp_index. The capacity is read and checked once at attach and kept
/// privately; no other value read from the page is trusted.
/// </summary>
internal sealed unsafe class SeedQueuePage : IDisposable
{
    internal const uint Magic = 0x4643537f;       // UIPC_SEED_MAGIC
    internal const int PageSize = 4096;           // UIPC_SEED_PAGE_SIZE
    internal const int DataSize = 0x100000;       // UIPC_SEED_DATA_SIZE
    internal const int HeaderSize = 16;           // UIPC_SEED_HEADER_SIZE
    internal const int DescriptorSize = 24;       // sizeof(struct uipc_seed_desc)
    internal const long FileQueueOffset = DataSize; // UIPC_SEED_FILE_QUEUE_OFFSET
    internal const long DeviceQueueOffset = 0x1000; // UIPC_SEED_DEVICE_QUEUE_OFFSET

    // struct uipc_seed_meta.
    private const int LockOffset = 4;
    private const int CapacityOffset = 6;
    private const int ReqIndexOffset = 8;
    private const int RspIndexOffset = 10;

    private readonly byte* _data;
    private readonly byte* _page;
    private readonly int _reqRing;
    private readonly int _rspRing;
    private int _disposed;

    private SeedQueuePage(byte* data, byte* page, int capacity)
    {
        _data = data;
        _page = page;
        Capacity = capacity;
        _reqRing = HeaderSize + (capacity * DescriptorSize); // UIPC_SEED_REQ_RING_OFFSET
        _rspRing = _reqRing + (capacity * 2);                 // UIPC_SEED_RSP_RING_OFFSET
    }

    /// <summary>Descriptors in the page (checked at attach: a power of two that fits).</summary>
    public int Capacity { get; }

    /// <summary>The data buffer (1 MiB). The RTOS side writes it concurrently: copy what must not change.</summary>
    public Span<byte> Data => new(_data, DataSize);

    /// <summary>
    /// Maps the data buffer and queue page of <paramref name="path"/> and waits (bounded) until the
    /// RTOS side has initialised the page (the magic), then validates the capacity.
    /// </summary>
    /// <exception cref="UintrIpcException">The file cannot be mapped, or the page is not a v1 queue page in time.</exception>
    public static SeedQueuePage Map(string path, long dataOffset, long queueOffset, TimeSpan waitForPage)
    {
        if (dataOffset % PageSize != 0 || queueOffset % PageSize != 0 || dataOffset < 0 || queueOffset < 0)
        {
            throw new UintrIpcException($"The data offset ({dataOffset}) and queue offset ({queueOffset}) must be non-negative multiples of {PageSize}.");
        }

        int fd;
        fixed (byte* p = Encoding.UTF8.GetBytes(path + "\0"))
        {
            fd = LibC.open(p, LibC.O_RDWR | LibC.O_CLOEXEC);
        }

        if (fd < 0)
        {
            throw new UintrIpcException($"open {path}", LibC.errno, "Give the queue file or device (/dev/nimbos) the RTOS side maps.");
        }

        byte* data = null, page = null;
        try
        {
            CheckSize(fd, path, Math.Max(dataOffset + DataSize, queueOffset + PageSize));
            data = (byte*)LibC.mmap(null, DataSize, LibC.PROT_READ | LibC.PROT_WRITE, LibC.MAP_SHARED, fd, dataOffset);
            if (data == (byte*)-1)
            {
                data = null;
                throw new UintrIpcException($"mmap of the data buffer of {path} at {dataOffset}", LibC.errno);
            }

            page = (byte*)LibC.mmap(null, PageSize, LibC.PROT_READ | LibC.PROT_WRITE, LibC.MAP_SHARED, fd, queueOffset);
            if (page == (byte*)-1)
            {
                page = null;
                throw new UintrIpcException($"mmap of the queue page of {path} at {queueOffset}", LibC.errno);
            }

            var result = new SeedQueuePage(data, page, WaitAndValidate(page, path, waitForPage));
            data = page = null; // owned by the result now
            return result;
        }
        finally
        {
            if (data != null)
            {
                _ = LibC.munmap(data, DataSize);
            }

            if (page != null)
            {
                _ = LibC.munmap(page, PageSize);
            }

            _ = LibC.close(fd); // the mappings stay valid
        }
    }

    /// <summary>
    /// Takes the shared lock, spinning at most <paramref name="budget"/>. The CAS has acquire
    /// semantics (a full barrier in .NET), so everything the RTOS wrote before its release store
    /// of the lock is visible afterwards.
    /// </summary>
    public bool TryLock(TimeSpan budget)
    {
        ref byte lockByte = ref *(_page + LockOffset);
        long start = Stopwatch.GetTimestamp();
        var spin = default(SpinWait);
        while (Interlocked.CompareExchange(ref lockByte, 1, 0) != 0)
        {
            if (Stopwatch.GetElapsedTime(start) > budget)
            {
                return false;
            }

            spin.SpinOnce(sleep1Threshold: -1); // never sleeps: the budget is the bound
        }

        return true;
    }

    /// <summary>Releases the lock: a release store, so the ring and result writes before it are visible to the next holder.</summary>
    public void Unlock() => Volatile.Write(ref *(_page + LockOffset), (byte)0);

    /// <summary>The RTOS's request producer index (acquire: the ring entries before it were written first).</summary>
    public ushort ReadRequestIndex() => Volatile.Read(ref *(ushort*)(_page + ReqIndexOffset));

    /// <summary>The response index as the page holds it (read once at start to resume; never trusted after).</summary>
    public ushort ReadResponseIndex() => Volatile.Read(ref *(ushort*)(_page + RspIndexOffset));

    /// <summary>The descriptor index at request ring position <paramref name="position"/> (masked here; the value is unchecked).</summary>
    public ushort ReadRequestEntry(ushort position) => Volatile.Read(ref *(ushort*)(_page + _reqRing + ((position & (Capacity - 1)) * 2)));

    /// <summary>Copies descriptor <paramref name="index"/> (which the caller checked) out of the page.</summary>
    public (byte Valid, byte Opcode, ulong Args) ReadDescriptor(int index)
    {
        byte* d = _page + HeaderSize + (index * DescriptorSize);
        return (Volatile.Read(ref d[0]), Volatile.Read(ref d[1]), Volatile.Read(ref *(ulong*)(d + 8)));
    }

    /// <summary>Writes a result into descriptor <paramref name="index"/> (checked by the caller); published by <see cref="PublishResponseIndex"/>.</summary>
    public void WriteResult(int index, long result) => Volatile.Write(ref *(long*)(_page + HeaderSize + (index * DescriptorSize) + 16), result);

    /// <summary>Writes descriptor index <paramref name="index"/> at response ring position <paramref name="position"/>.</summary>
    public void WriteResponseEntry(ushort position, ushort index) => Volatile.Write(ref *(ushort*)(_page + _rspRing + ((position & (Capacity - 1)) * 2)), index);

    /// <summary>
    /// Publishes the response producer index after a full fence (as hello's __sync_synchronize):
    /// the results and ring entries are visible before the index that announces them.
    /// </summary>
    public void PublishResponseIndex(ushort value)
    {
        Interlocked.MemoryBarrier();
        Volatile.Write(ref *(ushort*)(_page + RspIndexOffset), value);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        // Only the serving thread uses the page, and it has returned before Dispose is called.
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _ = LibC.munmap(_data, DataSize);
            _ = LibC.munmap(_page, PageSize);
        }
    }

    private static void CheckSize(int fd, string path, long needed)
    {
        stat st;
        if (LibC.fstat(fd, &st) != 0)
        {
            throw new UintrIpcException($"fstat {path}", LibC.errno);
        }

        // A device (/dev/nimbos) reports no size; a plain file must hold both mappings, or touching them faults.
        if (((uint)st.st_mode & 0xF000) == 0x8000 && st.st_size < needed)
        {
            throw new UintrIpcException($"{path} has {st.st_size} bytes; the data buffer and queue page need {needed}. Create it with the RTOS side (or the seed peer's init).");
        }
    }

    private static int WaitAndValidate(byte* page, string path, TimeSpan waitForPage)
    {
        long start = Stopwatch.GetTimestamp();
        uint magic;
        while ((magic = Volatile.Read(ref *(uint*)page)) != Magic)
        {
            if (Stopwatch.GetElapsedTime(start) > waitForPage)
            {
                throw new UintrIpcException($"The queue page of {path} has magic 0x{magic:x8}, not 0x{Magic:x8}, after {waitForPage.TotalSeconds} s: the RTOS side has not initialised it (or the offsets are wrong).");
            }

            Thread.Sleep(10);
        }

        // The magic is acquired: the capacity written before it is visible.
        int capacity = Volatile.Read(ref *(ushort*)(page + CapacityOffset));
        if (capacity == 0 || (capacity & (capacity - 1)) != 0 || HeaderSize + (capacity * (DescriptorSize + 4)) > PageSize)
        {
            throw new UintrIpcException($"The queue page of {path} announces capacity {capacity}; a v1 page holds a power of two up to 128.");
        }

        return capacity;
    }
}
