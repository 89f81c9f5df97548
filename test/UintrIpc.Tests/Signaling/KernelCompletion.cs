using System.Runtime.InteropServices;
using Tmds.Linux;

namespace UintrIpc.Tests.Signaling;

/// <summary>
/// A kernel-side eventfd_signal (one AIO read of /dev/zero with IOCB_FLAG_RESFD), which adds 1 to
/// an eventfd's counter even past the 2^64-2 a write(2) may reach: what a hostile consumer can do
/// to the eventfd it shares with a producer.
/// </summary>
internal static unsafe partial class KernelCompletion
{
    private const long SysIoSetup = 206, SysIoDestroy = 207, SysIoGetEvents = 208, SysIoSubmit = 209; // x86-64
    private const ushort IocbCmdPRead = 0;
    private const uint IocbFlagResFd = 1;

    /// <summary>Completes one AIO read that signals <paramref name="eventFd"/>; null when done, else why it could not be.</summary>
    public static string? SignalEventFd(int eventFd)
    {
        if (RuntimeInformation.ProcessArchitecture != Architecture.X64)
        {
            return "the AIO system call numbers here are x86-64's";
        }

        using var zero = File.OpenHandle("/dev/zero");
        ulong context = 0;
        if (Syscall(SysIoSetup, 1, (long)&context, 0, 0, 0) != 0)
        {
            return $"io_setup failed, errno {Marshal.GetLastPInvokeError()}";
        }

        try
        {
            byte* buffer = stackalloc byte[8];
            Iocb iocb = new()
            {
                Opcode = IocbCmdPRead,
                FileDescriptor = (uint)zero.DangerousGetHandle(),
                Buffer = (ulong)buffer,
                Length = 8,
                Flags = IocbFlagResFd,
                ResultFd = (uint)eventFd,
            };
            Iocb* list = &iocb;
            if (Syscall(SysIoSubmit, (long)context, 1, (long)&list, 0, 0) != 1)
            {
                return $"io_submit failed, errno {Marshal.GetLastPInvokeError()}";
            }

            var events = stackalloc long[4]; // struct io_event: data, obj, res, res2
            timespec bound = new() { tv_sec = 10 };
            long got = Syscall(SysIoGetEvents, (long)context, 1, 1, (long)events, (long)&bound);
            Assert.True(got == 1, $"io_getevents returned {got}, errno {Marshal.GetLastPInvokeError()}");
            Assert.Equal(8, events[2]);
            return null;
        }
        finally
        {
            Syscall(SysIoDestroy, (long)context, 0, 0, 0, 0);
        }
    }

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long Syscall(long number, long arg1, long arg2, long arg3, long arg4, long arg5);

    /// <summary><c>struct iocb</c> (linux/aio_abi.h, little-endian).</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct Iocb
    {
        public ulong Data;
        public uint Key;
        public int ReadWriteFlags;
        public ushort Opcode;
        public short RequestPriority;
        public uint FileDescriptor;
        public ulong Buffer;
        public ulong Length;
        public long Offset;
        public ulong Reserved;
        public uint Flags;
        public uint ResultFd;
    }
}
