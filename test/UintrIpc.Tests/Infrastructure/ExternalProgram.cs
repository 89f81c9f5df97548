using System.Diagnostics;

namespace UintrIpc.Tests.Infrastructure;

/// <summary>
/// Runs a native program (gcc, make, a compiled C peer) to completion with a bounded wait,
/// killing it on timeout, and captures its output.
/// </summary>
public static class ExternalProgram
{
    /// <summary>What a finished program left behind.</summary>
    /// <param name="ExitCode">Its exit code.</param>
    /// <param name="StandardOutput">Everything it wrote to stdout.</param>
    /// <param name="StandardError">Everything it wrote to stderr.</param>
    public sealed record Result(int ExitCode, string StandardOutput, string StandardError)
    {
        /// <summary>Both streams, for assertion messages.</summary>
        public override string ToString() => $"exit {ExitCode}\nstdout:\n{StandardOutput}\nstderr:\n{StandardError}";
    }

    /// <summary>Default bound on one program run.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(60);

    /// <summary>The full path of <paramref name="name"/> found on PATH, or null.</summary>
    public static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);

    /// <summary>Starts <paramref name="program"/>; the caller waits with <see cref="Finish"/>.</summary>
    public static Process Start(string program, params string[] args) => Start(StartInfo(program, args));

    /// <summary>A start description with both output streams redirected, to adjust (environment, directory) and pass to <see cref="Start(ProcessStartInfo)"/>.</summary>
    public static ProcessStartInfo StartInfo(string program, params IEnumerable<string> args)
    {
        var psi = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }

        return psi;
    }

    /// <summary>Starts a program described by <see cref="StartInfo"/>; the caller waits with <see cref="Finish"/>.</summary>
    public static Process Start(ProcessStartInfo psi)
    {
        ArgumentNullException.ThrowIfNull(psi);
        return Process.Start(psi) ?? throw new InvalidOperationException($"could not start {psi.FileName}");
    }

    /// <summary>Runs a program described by <see cref="StartInfo"/> to completion (bounded).</summary>
    public static Result Run(ProcessStartInfo psi, TimeSpan? timeout = null)
    {
        using var process = Start(psi);
        return Finish(process, timeout);
    }

    /// <summary>Waits (bounded) for a started program; on timeout kills it and throws.</summary>
    public static Result Finish(Process process, TimeSpan? timeout = null)
    {
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        var limit = timeout ?? DefaultTimeout;
        if (!process.WaitForExit(limit))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(5000);
            throw new TimeoutException($"{process.StartInfo.FileName} did not finish within {limit.TotalSeconds} s; killed.");
        }

        process.WaitForExit();
        // The pipes close when the program exits: these complete promptly.
        return new Result(process.ExitCode, stdout.GetAwaiter().GetResult(), stderr.GetAwaiter().GetResult());
    }

    /// <summary>Runs <paramref name="program"/> to completion.</summary>
    public static Result Run(string program, params string[] args)
    {
        using var process = Start(program, args);
        return Finish(process);
    }
}
