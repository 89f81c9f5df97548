using System.Diagnostics;
using System.Text.RegularExpressions;
using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.Signaling;

/// <summary>
/// The handler's object code: a user-interrupt handler must return with UIRET (an IRETQ
/// would fault in user mode) and must not touch x87/SSE/AVX state, which nothing saves on
/// delivery (uintr-abi.md §2.4, §6.3, §6.4). Both hold only if the build flags are right.
/// </summary>
public sealed partial class UintrHandlerDisassemblyTests(ITestOutputHelper output)
{
    private const string HandlerSymbol = "uipc_uintr_handler";

    [Fact]
    public void The_handler_ends_in_uiret_and_uses_general_purpose_registers_only()
    {
        string? objdump = FindOnPath("objdump");
        RequiredTools.SkipWhenMissing(objdump is null, "objdump (binutils) is not installed, so the handler cannot be disassembled");

        var files = new List<string> { Path.Combine(AppContext.BaseDirectory, "libuintripc.so") };
        string? repo = FindRepositoryRoot();
        if (repo is not null && File.Exists(Path.Combine(repo, "interop", "build", "uintr_handler.o")))
        {
            files.Add(Path.Combine(repo, "interop", "build", "uintr_handler.o"));
        }

        foreach (string file in files)
        {
            var instructions = Disassemble(objdump!, file);
            output.WriteLine($"{file}:");
            foreach (var (mnemonic, operands) in instructions)
            {
                output.WriteLine($"  {mnemonic} {operands}");
            }

            Assert.NotEmpty(instructions);
            Assert.Equal("uiret", instructions[^1].Mnemonic);
            Assert.DoesNotContain(instructions, i => i.Mnemonic is "iretq" or "iret" or "ret");
            foreach (var (mnemonic, operands) in instructions)
            {
                Assert.False(VectorRegister().IsMatch(operands), $"vector/x87 register in '{mnemonic} {operands}'");
                Assert.False(IsVectorOrX87Mnemonic(mnemonic), $"SSE/AVX/x87 instruction '{mnemonic} {operands}'");
                Assert.False(mnemonic.StartsWith("call", StringComparison.Ordinal), $"the handler calls out: '{mnemonic} {operands}'");
            }

            // What it does: one locked OR (the pending bit) and one locked add (the counter).
            Assert.Contains(instructions, i => i.Mnemonic == "lock" && i.Operands.StartsWith("or", StringComparison.Ordinal));
            Assert.Contains(instructions, i => i.Mnemonic == "lock" && i.Operands.StartsWith("add", StringComparison.Ordinal));
        }
    }

    private static bool IsVectorOrX87Mnemonic(string m) =>
        m.StartsWith('f') || m.StartsWith('v') || m is "emms" or "ldmxcsr" or "stmxcsr" or "xsave" or "xrstor"
            || m.EndsWith("ps", StringComparison.Ordinal) || m.EndsWith("pd", StringComparison.Ordinal)
            || m.EndsWith("ss", StringComparison.Ordinal) || m.EndsWith("sd", StringComparison.Ordinal)
            || m.StartsWith("movdq", StringComparison.Ordinal) || m.StartsWith("pxor", StringComparison.Ordinal);

    [GeneratedRegex(@"%(x|y|z)mm\d|%st(\(|\b)|%mm\d|%k[0-7]\b")]
    private static partial Regex VectorRegister();

    // "  26:\tlock or %rsi,(%rax)" -> ("lock", "or %rsi,(%rax)") with --no-show-raw-insn.
    [GeneratedRegex(@"^\s*[0-9a-f]+:\s+(\S+)\s*(.*)$")]
    private static partial Regex InstructionLine();

    private static List<(string Mnemonic, string Operands)> Disassemble(string objdump, string file)
    {
        var psi = new ProcessStartInfo(objdump)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in new[] { "-d", "--no-show-raw-insn", "--disassemble=" + HandlerSymbol, file })
        {
            psi.ArgumentList.Add(a);
        }

        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(60)))
        {
            process.Kill();
            throw new TimeoutException("objdump did not finish");
        }

        Assert.True(process.ExitCode == 0, $"objdump failed: {stderr.Result}");
        var result = new List<(string, string)>();
        bool inHandler = false;
        foreach (string line in stdout.Result.Split('\n'))
        {
            if (line.EndsWith($"<{HandlerSymbol}>:", StringComparison.Ordinal))
            {
                inHandler = true;
                continue;
            }

            if (!inHandler)
            {
                continue;
            }

            if (line.Length == 0)
            {
                break; // end of the function
            }

            var m = InstructionLine().Match(line);
            if (m.Success)
            {
                // Drop trailing "# comment" of RIP-relative operands.
                string operands = m.Groups[2].Value;
                int hash = operands.IndexOf('#', StringComparison.Ordinal);
                result.Add((m.Groups[1].Value, (hash >= 0 ? operands[..hash] : operands).Trim()));
            }
        }

        Assert.True(inHandler, $"{HandlerSymbol} not found in {file}");
        return result;
    }

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);

    private static string? FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "interop", "Makefile")))
            {
                return dir.FullName;
            }
        }

        return null;
    }
}
