using System.Runtime.InteropServices;

namespace UintrIpc.TestPeer.Commands;

/// <summary>
/// Makes the calling thread's (and its later threads') mmap of a private anonymous
/// MAP_FIXED|MAP_NORESERVE range, the placeholders SafeMappingHandle.Retire asks for (writable, then read-only), fail with ENOMEM
/// (a seccomp filter: the kernel does nothing else, so the shared mapping stays). No other mmap matches.
/// <see cref="Install(bool)"/> with writableOnly: only the writable placeholder fails, as strict
/// overcommit (vm.overcommit_memory=2) may refuse it, and the read-only one Retire falls back to is mapped.
/// </summary>
internal static unsafe partial class FailingRetire
{
    private const int PrSetNoNewPrivs = 38, PrSetSeccomp = 22, SeccompModeFilter = 2;
    private const ushort LoadWord = 0x20, JumpIfEqual = 0x15, Return = 0x06;
    private const uint Allow = 0x7fff0000, FailWithEnomem = 0x00050000 | 12;
    /// <summary>MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE (x86-64 and arm64 values).</summary>
    private const uint PlaceholderFlags = 0x10 | 0x02 | 0x20 | 0x4000;

    public static void Install(bool writableOnly = false)
    {
        (uint arch, uint mmap) = RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.X64 => (0xC000003Eu, 9u),
            Architecture.Arm64 => (0xC00000B7u, 222u),
            var other => throw new PlatformNotSupportedException($"no seccomp numbers for {other}"),
        };

        // seccomp_data: nr at 0, arch at 4, args from 16 (8 bytes each; the low half first). Any
        // protection: the writable placeholder, then the read-only one Retire falls back to;
        // writableOnly: PROT_READ|PROT_WRITE (3) only.
        uint protections = writableOnly ? 3u : 0u; // 0: the jump below goes to the refusal either way
        SockFilter* program = stackalloc SockFilter[]
        {
            new(LoadWord, 0, 0, 4), new(JumpIfEqual, 0, 7, arch),
            new(LoadWord, 0, 0, 0), new(JumpIfEqual, 0, 5, mmap),
            new(LoadWord, 0, 0, 16 + (3 * 8)), new(JumpIfEqual, 0, 3, PlaceholderFlags),
            new(LoadWord, 0, 0, 16 + (2 * 8)), new(JumpIfEqual, 0, writableOnly ? (byte)1 : (byte)0, protections),
            new(Return, 0, 0, FailWithEnomem), new(Return, 0, 0, Allow),
        };
        var fprog = new SockFprog { Length = 10, Filter = program };
        if (prctl(PrSetNoNewPrivs, 1, 0, 0, 0) != 0 || prctl(PrSetSeccomp, SeccompModeFilter, (nuint)(&fprog), 0, 0) != 0)
        {
            throw new InvalidOperationException($"seccomp filter refused: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int prctl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);

    [StructLayout(LayoutKind.Sequential)]
    private readonly struct SockFilter(ushort code, byte jumpIfTrue, byte jumpIfFalse, uint k)
    {
        private readonly ushort _code = code;
        private readonly byte _jumpIfTrue = jumpIfTrue;
        private readonly byte _jumpIfFalse = jumpIfFalse;
        private readonly uint _k = k;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct SockFprog
    {
        public ushort Length;
        public SockFilter* Filter;
    }
}
