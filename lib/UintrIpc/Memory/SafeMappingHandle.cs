using System.Runtime.InteropServices;
using Tmds.Linux;

namespace UintrIpc.Memory;

/// <summary>Owns one mmap'ed range; ReleaseHandle unmaps it.</summary>
internal sealed unsafe class SafeMappingHandle : SafeBuffer
{
    /// <summary>Creates an empty handle (used by MapShared).</summary>
    public SafeMappingHandle() : base(ownsHandle: true) { }

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

    protected override bool ReleaseHandle() => LibC.munmap((void*)handle, (size_t)ByteLength) == 0;
}
