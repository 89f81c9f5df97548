using System.Runtime.InteropServices;
using Tmds.Linux;

namespace UintrIpc.Memory;

/// <summary>
/// Owns one mmap'ed range: the region's shared mapping, then, once <see cref="Retire"/>d, a
/// private placeholder of the same length; ReleaseHandle unmaps whichever is there.
/// </summary>
internal sealed unsafe class SafeMappingHandle : SafeBuffer
{
    /// <summary>1 once <see cref="Retire"/> replaced the shared mapping.</summary>
    private int _retired;

    /// <summary>
    /// Whether <see cref="Retire"/> asks for the writable placeholder: not under strict overcommit
    /// (vm.overcommit_memory 2), which charges a writable private mapping its whole length against
    /// the host's commit limit until the region is finalized (a GC away): a process that makes and
    /// disposes large regions could then make other allocations on the host fail (review15).
    /// </summary>
    private static readonly bool s_writablePlaceholder = AllowsWritablePlaceholder(ReadOvercommitMode());

    /// <summary>Creates an empty handle (used by MapShared).</summary>
    public SafeMappingHandle() : base(ownsHandle: true) { }

    /// <summary>Whether the range still maps the region's memory (neither retired nor released).</summary>
    internal bool IsLive => !IsClosed && Volatile.Read(ref _retired) == 0;

    /// <summary>Maps <paramref name="length"/> bytes of <paramref name="fd"/>, shared and read-write.</summary>
    internal static SafeMappingHandle MapShared(SafeHandle fd, long length)
    {
        bool added = false;
        try
        {
            fd.DangerousAddRef(ref added);
            void* address = LibC.mmap(null, (size_t)(ulong)length, LibC.PROT_READ | LibC.PROT_WRITE, LibC.MAP_SHARED, (int)fd.DangerousGetHandle(), 0);
            if (address == (void*)-1)
            {
                throw UintrIpcException.FromLastError($"mmap of {length} bytes", "Check the region size and the process's memory limits (ulimit -v).");
            }

            var handle = new SafeMappingHandle();
            handle.SetHandle((nint)address);
            handle.Initialize((ulong)length);
            return handle;
        }
        finally
        {
            if (added)
            {
                fd.DangerousRelease();
            }
        }
    }

    /// <summary>
    /// Replaces the shared mapping by an anonymous, private, writable, unreserved one of the same
    /// length in one mmap(MAP_FIXED): the region's pages are let go (its memory goes with its last
    /// mapping and descriptor), and an access that races this finds the old page or a private one,
    /// never a hole, which would end the process. What races it: a store through a claim's element
    /// or payload (SlotClaim.Item, a batch's indexer, RecordClaim.Payload, RecordBatch.TryAppend),
    /// which no MappingUse record can cover; it lands in memory nobody reads as a ring (every
    /// ring call checks its disposed flag before it reads the mapping) and the claim's completion
    /// throws ObjectDisposedException. Costs address space, and a page of memory for each one such
    /// a late store touches. The placeholder goes when this handle is finalized: when nothing that
    /// could touch the range is reachable (every ring object, engine and channel end references its
    /// region, which holds this handle; a claim references its ring object).
    /// </summary>
    /// <remarks>
    /// Strict overcommit (vm.overcommit_memory=2) charges a writable private mapping its length,
    /// MAP_NORESERVE or not: there the placeholder is read-only from the start (never charged), and a
    /// late store faults as before claimw's change. A refused writable mmap (some kernels unmap the
    /// old range before they refuse) falls back to the read-only one too. If that mmap fails too (ENOMEM: the process's map count), the
    /// kernel may have left the shared mapping or, before 6.12, a hole (a MAP_FIXED that fails after
    /// removing the old range): either way the range is unmapped now and the handle closed, so that
    /// its finalizer never unmaps what a later mmap placed there, nor holds the region's memory.
    /// </remarks>
    internal void Retire()
    {
        int placeholder = LibC.MAP_FIXED | LibC.MAP_PRIVATE | LibC.MAP_ANONYMOUS | LibC.MAP_NORESERVE;
        if (Interlocked.Exchange(ref _retired, 1) == 0
            && (!s_writablePlaceholder || LibC.mmap((void*)handle, (size_t)ByteLength, LibC.PROT_READ | LibC.PROT_WRITE, placeholder, -1, 0) == (void*)-1)
            && LibC.mmap((void*)handle, (size_t)ByteLength, LibC.PROT_READ, placeholder, -1, 0) == (void*)-1)
        {
            Dispose();
        }
    }

    /// <summary>Whether the overcommit mode read from /proc/sys/vm/overcommit_memory (null: unreadable) lets the placeholder be writable.</summary>
    internal static bool AllowsWritablePlaceholder(string? overcommitMode) => overcommitMode?.Trim() != "2";

    private static string? ReadOvercommitMode()
    {
        try
        {
            return File.ReadAllText("/proc/sys/vm/overcommit_memory");
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    protected override bool ReleaseHandle() => LibC.munmap((void*)handle, (size_t)ByteLength) == 0;
}
