using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using Tmds.Linux;
using UintrIpc.Interop;
using UintrIpc.Signaling;

namespace UintrIpc.Tests.Signaling;

public sealed class UintrSupportTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("uintr-detect-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Detection_is_cached()
    {
        Assert.Same(UintrSupport.Detect(), UintrSupport.Detect());
    }

    [Fact]
    public void Struct_mirrors_have_the_C_sizes()
    {
        // The C header asserts the same sizes (uintripc_uintr.h).
        Assert.Equal(288, Marshal.SizeOf<Shim.UintrDetection>());
        Assert.Equal(8, Marshal.SizeOf<Shim.UintrKernelEvidence>());
        Assert.Equal(56, Marshal.SizeOf<Shim.UintrSimStats>());
    }

    [Fact]
    public void Detection_reports_the_first_failing_check_consistently_with_this_machine()
    {
        var support = UintrSupport.Detect();
        output.WriteLine($"IsAvailable={support.IsAvailable} FailedStep={support.FailedStep} Variant={support.Variant ?? "-"} Errno={support.Errno}");
        output.WriteLine($"Reason: {support.Reason}");

        Assert.False(string.IsNullOrWhiteSpace(support.Reason));
        Assert.Equal(support.IsAvailable, support.FailedStep == UintrDetectionStep.None);

        if (RuntimeInformation.ProcessArchitecture != Architecture.X64)
        {
            Assert.Equal(UintrDetectionStep.Architecture, support.FailedStep);
            Assert.Contains("x86-64", support.Reason, StringComparison.Ordinal);
            return;
        }

        // Read CPUID ourselves, independently of the shim.
        uint maxLeaf = (uint)X86Base.CpuId(0, 0).Eax;
        uint edx7 = maxLeaf >= 7 ? (uint)X86Base.CpuId(7, 0).Edx : 0;
        bool cpuHasUintr = (edx7 & (1u << 5)) != 0;
        if (!cpuHasUintr)
        {
            Assert.False(support.IsAvailable);
            Assert.Equal(UintrDetectionStep.Cpu, support.FailedStep);
            Assert.Contains("CPUID.(EAX=7,ECX=0):EDX[5]", support.Reason, StringComparison.Ordinal);
            Assert.Contains("does not have user interrupts", support.Reason, StringComparison.Ordinal);
            Assert.Null(support.Variant);
            Assert.Equal(0, support.Errno);
            // Detection stopped at the CPU step: no kernel evidence was even gathered.
            Assert.Equal(0u, support.Evidence);
            Assert.Equal(edx7, support.CpuidLeaf7Edx);
            return;
        }

        Assert.NotEqual(UintrDetectionStep.Cpu, support.FailedStep);
        Assert.Equal(edx7, support.CpuidLeaf7Edx);
        switch (support.FailedStep)
        {
            case UintrDetectionStep.Kernel:
                Assert.Contains("kallsyms", support.Reason, StringComparison.Ordinal);
                Assert.Null(support.Variant);
                break;
            case UintrDetectionStep.Probe:
                Assert.Contains("uintr_register_handler", support.Reason, StringComparison.Ordinal);
                Assert.NotNull(support.Variant);
                break;
            default:
                Assert.True(support.IsAvailable);
                Assert.NotNull(support.Variant);
                Assert.StartsWith("available: variant " + support.Variant, support.Reason, StringComparison.Ordinal);
                break;
        }
    }

    [Fact]
    public void Kernel_inspection_of_this_machine_agrees_with_proc()
    {
        var (flags, variant) = UintrSupport.InspectKernel(null, null, null);
        output.WriteLine($"evidence flags 0x{flags:x}, variant {variant ?? "-"}");

        string[]? names = TryReadKallsymsNames();
        Assert.Equal(names is not null, (flags & Shim.UintrEvKallsymsRead) != 0);
        if (names is not null)
        {
            var set = names.ToHashSet(StringComparer.Ordinal);
            Assert.Equal(set.Contains("__x64_sys_uintr_vector_fd"), (flags & Shim.UintrEvSymVectorFd) != 0);
            Assert.Equal(set.Contains("__x64_sys_uintr_create_fd"), (flags & Shim.UintrEvSymCreateFd) != 0);
            Assert.Equal(set.Contains("__x64_sys_futex_waitv"), (flags & Shim.UintrEvSymFutexWaitv) != 0);
            Assert.Equal(set.Contains("__x64_sys_rseq_slice_yield"), (flags & Shim.UintrEvSym471Taken) != 0);
        }

        string interrupts = File.ReadAllText("/proc/interrupts");
        bool uis = interrupts.Split('\n').Any(l => l.TrimStart().StartsWith("UIS:", StringComparison.Ordinal));
        Assert.Equal(uis, (flags & Shim.UintrEvInterruptsUis) != 0);

        string? cpuFlags = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("flags", StringComparison.Ordinal));
        bool cpuinfoUintr = cpuFlags is not null && cpuFlags[(cpuFlags.IndexOf(':', StringComparison.Ordinal) + 1)..]
            .Split(' ', StringSplitOptions.RemoveEmptyEntries).Contains("uintr");
        Assert.Equal(cpuinfoUintr, (flags & Shim.UintrEvCpuinfoFlag) != 0);

        if ((flags & (Shim.UintrEvSymVectorFd | Shim.UintrEvSymCreateFd)) == 0)
        {
            Assert.Null(variant);
        }
    }

    [Theory]
    [InlineData(new[] { "__x64_sys_read", "__x64_sys_uintr_vector_fd", "__x64_sys_futex_waitv" }, "E")]
    [InlineData(new[] { "__x64_sys_uintr_create_fd", "__x64_sys_futex_waitv" }, "C")]
    [InlineData(new[] { "__x64_sys_uintr_create_fd", "__x64_sys_write" }, "D")]
    [InlineData(new[] { "__x64_sys_futex_waitv", "__x64_sys_set_mempolicy_home_node" }, null)]
    [InlineData(new[] { "__x64_sys_uintr_vector_fd_old", "__ia32_sys_uintr_vector_fd", "x64_sys_uintr_create_fd" }, null)]
    // 471 belongs to mainline's rseq_slice_yield: a 471-based table (C, E) is not trusted; D (449) still is.
    [InlineData(new[] { "__x64_sys_uintr_vector_fd", "__x64_sys_futex_waitv", "__x64_sys_rseq_slice_yield" }, null)]
    [InlineData(new[] { "__x64_sys_uintr_create_fd", "__x64_sys_futex_waitv", "__x64_sys_rseq_slice_yield" }, null)]
    public void Kernel_inspection_identifies_the_variant_from_symbol_names(string[] symbols, string? expected)
    {
        string kallsyms = Write("kallsyms", string.Concat(symbols.Select(s => $"0000000000000000 T {s}\n")));
        var (flags, variant) = UintrSupport.InspectKernel(kallsyms, Missing, Missing);
        Assert.Equal(expected, variant);
        Assert.True((flags & Shim.UintrEvKallsymsRead) != 0);
        Assert.Equal(0u, flags & (Shim.UintrEvInterruptsRead | Shim.UintrEvCpuinfoRead));
    }

    [Fact]
    public void Kernel_inspection_reads_module_symbols_and_the_UIS_row_and_the_cpuinfo_hint()
    {
        string kallsyms = Write("kallsyms", "ffffffffc0000000 t __x64_sys_uintr_vector_fd\t[uintr]\n");
        string interrupts = Write("interrupts",
            "           CPU0       CPU1\n  NMI:          0          0   Non-maskable interrupts\n  UIS:          0          0   User-interrupt spurious event\n");
        string cpuinfo = Write("cpuinfo", "processor\t: 0\nflags\t\t: fpu sse2 uintr md_clear\n");
        var (flags, variant) = UintrSupport.InspectKernel(kallsyms, interrupts, cpuinfo);
        Assert.Equal("E", variant);
        Assert.True((flags & Shim.UintrEvInterruptsUis) != 0);
        Assert.True((flags & Shim.UintrEvCpuinfoFlag) != 0);

        // Near misses: a word that only starts with "uintr", a row that only mentions UIS.
        string cpuinfo2 = Write("cpuinfo2", "flags\t\t: fpu uintr_x sse2\n");
        string interrupts2 = Write("interrupts2", "  NMI:   0   UIS: mentioned later on the line\n");
        (flags, _) = UintrSupport.InspectKernel(Missing, interrupts2, cpuinfo2);
        Assert.Equal(0u, flags & (Shim.UintrEvCpuinfoFlag | Shim.UintrEvInterruptsUis));
        Assert.Equal(0u, flags & Shim.UintrEvKallsymsRead);
    }

    [Fact]
    public void The_real_path_refuses_everything_when_unavailable()
    {
        var support = UintrSupport.Detect();
        Assert.SkipWhen(support.IsAvailable, "user interrupts are available here; the refusal path cannot be observed");

        UintrTestThread.Run(() =>
        {
            var e = Assert.Throws<PlatformNotSupportedException>(() => new UintrDoorbellReceiver(vector: 1));
            Assert.Equal(support.Reason, e.Message);

            // The shim itself refuses too, before any uintr instruction or syscall number.
            unsafe
            {
                nint handle;
                Assert.Equal(-LibC.EOPNOTSUPP, Shim.UintrReceiverCreate(0, &handle));
                Assert.Equal(0, handle);
            }

            // A real sender from a (simulated) vector fd is refused the same way.
            using var receiver = new UintrDoorbellReceiver(vector: 1, simulated: true);
            var e2 = Assert.Throws<PlatformNotSupportedException>(() => new UintrDoorbellSender(receiver.VectorFd));
            Assert.Equal(support.Reason, e2.Message);
            Assert.Equal(-LibC.EOPNOTSUPP, Shim.UintrSenderRegister(receiver.VectorFd.Fd, 0));
        });
    }

    [Fact]
    public void The_recorded_lab_kernel_is_identified_as_variant_E_from_its_symbols()
    {
        var (flags, variant) = UintrSupport.InspectKernel(Fixture("kallsyms"), Fixture("interrupts"), Fixture("cpuinfo"));
        output.WriteLine($"evidence flags 0x{flags:x}, variant {variant ?? "-"}");
        Assert.Equal("E", variant);
        uint expected = Shim.UintrEvKallsymsRead | Shim.UintrEvSymVectorFd | Shim.UintrEvSymFutexWaitv
            | Shim.UintrEvInterruptsRead | Shim.UintrEvInterruptsUis | Shim.UintrEvCpuinfoRead | Shim.UintrEvCpuinfoFlag;
        Assert.Equal(expected, flags); // no create_fd (C, D) and no rseq_slice_yield (471 taken)
    }

    [Fact]
    public void The_lab_kernel_rebased_onto_a_tree_that_gives_471_to_rseq_slice_yield_is_refused()
    {
        // The same uintr symbols, but mainline now owns 471, where variant E starts: the
        // numbers cannot be trusted, so no syscall number is tried.
        string kallsyms = Write("kallsyms-rebased", File.ReadAllText(Fixture("kallsyms")) + "ffffffff81032900 T __x64_sys_rseq_slice_yield\n");
        var (flags, variant) = UintrSupport.InspectKernel(kallsyms, Fixture("interrupts"), Fixture("cpuinfo"));
        Assert.Null(variant);
        Assert.True((flags & Shim.UintrEvSym471Taken) != 0);
    }

    [Fact]
    public void The_lab_cpu_on_a_stock_kernel_identifies_nothing_despite_the_cpuinfo_flag()
    {
        // A kernel without the uintr series: no uintr symbols, no UIS: row; the cpuinfo flag
        // alone (some vendor kernels print it) is only a hint.
        string kallsyms = Write("kallsyms-stock", string.Concat(File.ReadLines(Fixture("kallsyms"))
            .Where(l => !l.Contains("_sys_uintr_", StringComparison.Ordinal)).Select(l => l + "\n")));
        string interrupts = Write("interrupts-stock", string.Concat(File.ReadLines(Fixture("interrupts"))
            .Where(l => !l.TrimStart().StartsWith("UIS:", StringComparison.Ordinal) && !l.TrimStart().StartsWith("UKN:", StringComparison.Ordinal)).Select(l => l + "\n")));
        var (flags, variant) = UintrSupport.InspectKernel(kallsyms, interrupts, Fixture("cpuinfo"));
        Assert.Null(variant);
        Assert.Equal(0u, flags & (Shim.UintrEvSymVectorFd | Shim.UintrEvSymCreateFd | Shim.UintrEvInterruptsUis));
        Assert.True((flags & Shim.UintrEvCpuinfoFlag) != 0);
    }

    [Fact]
    [Trait(RealUintr.TraitName, RealUintr.TraitValue)]
    public void On_the_lab_machine_detection_finds_variant_E_with_blocking_waits_and_the_recorded_evidence()
    {
        RealUintr.SkipUnlessAvailable();
        var support = UintrSupport.Detect();
        output.WriteLine(support.Reason);
        Assert.Equal("E", support.Variant);
        Assert.Equal(Shim.UintrWaitSyscall, support.WaitMode);
        Assert.StartsWith("available: variant E, uintr-next (syscalls 471-479), on kernel ", support.Reason, StringComparison.Ordinal);
        // The live /proc gives what the fixture recorded (the fixture is this machine's).
        Assert.Equal(UintrSupport.InspectKernel(Fixture("kallsyms"), Fixture("interrupts"), Fixture("cpuinfo")), UintrSupport.InspectKernel(null, null, null));
    }

    /// <summary>Files recorded on the emulated uintr machine (Linux 6.8.1 + uintr-next): only the lines detection reads from kallsyms.</summary>
    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Signaling", "Fixtures", "uintr-lab-6.8.1", name);

    private const string Missing = "/nonexistent/uintr-test-file";

    private string Write(string name, string text)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    private static string[]? TryReadKallsymsNames()
    {
        try
        {
            return File.ReadLines("/proc/kallsyms")
                .Select(l => l.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries))
                .Where(p => p.Length >= 3)
                .Select(p => p[2])
                .ToArray();
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
}
