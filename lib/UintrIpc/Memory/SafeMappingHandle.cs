using System.Runtime.InteropServices;
using Tmds.Linux;

namespace UintrIpc.Memory;

/// <summary>
/// Owns one mmap'ed range: the region's shared mapping, then, once <see cref="Retire"/>d, a
/// read-only placeholder of the same length; ReleaseHandle unmaps whichever is there.
/// </summary>
internal sealed unsafe class SafeMappingHandle : SafeBuffer
{
    /// <summary>1 once <see cref="Retire"/> replaced the shared mapping.</summary>
    private int _retired;

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
    /// Replaces the shared mapping by an anonymous, read-only, unreserved one of the same length
    /// in one mmap(MAP_FIXED): the region's pages are let go (its memory goes with its last mapping
    /// and descriptor), and a load that races this (one a missing <see cref="MappingUse"/> record would let
    /// through: every ring call records itself today) finds the old page or a zero page, never a
    /// hole, which would end the process. Costs address space only (zero pages are shared). The placeholder goes when
    /// this handle is finalized: when nothing that could read the range is reachable (every ring
    /// object, engine and channel end references its region, which holds this handle).
    /// </summary>
    /// <remarks>
    /// A failed mmap (ENOMEM) may have left the shared mapping or, on kernels before 6.12, a hole (a
    /// MAP_FIXED that fails after removing the old range): either way the range is unmapped now, as
    /// before the placeholder, and the handle closed, so that its finalizer never unmaps what a later
    /// mmap placed there, nor holds the region's memory until then.
    /// </remarks>
    internal void Retire()
    {
        if (Interlocked.Exchange(ref _retired, 1) == 0
            && LibC.mmap((void*)handle, (size_t)ByteLength, LibC.PROT_READ, LibC.MAP_FIXED | LibC.MAP_PRIVATE | LibC.MAP_ANONYMOUS | LibC.MAP_NORESERVE, -1, 0) == (void*)-1)
        {
            Dispose();
        }
    }

    protected override bool ReleaseHandle() => LibC.munmap((void*)handle, (size_t)ByteLength) == 0;
}
