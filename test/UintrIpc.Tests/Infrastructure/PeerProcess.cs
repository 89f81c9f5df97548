using System.Diagnostics;
using System.Text;

namespace UintrIpc.Tests.Infrastructure;

/// <summary>
/// A child process running UintrIpc.TestPeer with one command. Output is captured (and
/// forwarded to the test output); Dispose kills the whole child tree if it still runs, so
/// a failing test never leaves a process behind.
/// </summary>
public sealed class PeerProcess : IDisposable
{
    /// <summary>Default bound on how long a test waits for a child.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(60);

    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly ITestOutputHelper? _output;
    private readonly string _name;

    /// <summary>When the child last printed a line (stdout or stderr), or was started: see <see cref="WaitForExitWhileProgressing"/>.</summary>
    private long _lastOutput = Stopwatch.GetTimestamp();

    private PeerProcess(Process process, string name, ITestOutputHelper? output)
    {
        _process = process;
        _name = name;
        _output = output;
    }

    /// <summary>The child's process id.</summary>
    public int Pid => _process.Id;

    /// <summary>Whether the child has exited.</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>Everything the child wrote to stdout so far.</summary>
    public string StandardOutput
    {
        get
        {
            lock (_stdout)
            {
                return _stdout.ToString();
            }
        }
    }

    /// <summary>Everything the child wrote to stderr so far.</summary>
    public string StandardError
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    /// <summary>Starts `dotnet UintrIpc.TestPeer.dll command args...`.</summary>
    /// <param name="output">Test output to forward the child's output to, or null.</param>
    /// <param name="command">The peer command.</param>
    /// <param name="args">Its arguments.</param>
    public static PeerProcess Start(ITestOutputHelper? output, string command, params string[] args)
        => StartWrapped(output, [], null, command, args);

    /// <summary>
    /// Starts `wrapper... dotnet UintrIpc.TestPeer.dll command args...` (for example under strace),
    /// with extra environment variables. Kill and Dispose reach the wrapper's whole process tree.
    /// </summary>
    /// <param name="output">Test output to forward the child's output to, or null.</param>
    /// <param name="wrapper">The program and its arguments that run dotnet; empty for none.</param>
    /// <param name="environment">Variables to set for the child, or null.</param>
    /// <param name="command">The peer command.</param>
    /// <param name="args">Its arguments.</param>
    public static PeerProcess StartWrapped(ITestOutputHelper? output, IReadOnlyList<string> wrapper, IReadOnlyDictionary<string, string>? environment, string command, params string[] args)
        => StartProgram(output, "UintrIpc.TestPeer.dll", wrapper, environment, command, args);

    /// <summary>
    /// Starts another .NET program of the test output folder (e.g. a sample): `dotnet dllFileName command args...`
    /// (a rooted <paramref name="dllFileName"/> is taken as it is).
    /// </summary>
    public static PeerProcess StartProgram(ITestOutputHelper? output, string dllFileName, IReadOnlyList<string> wrapper, IReadOnlyDictionary<string, string>? environment, string command, params string[] args)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, dllFileName);
        var psi = new ProcessStartInfo(wrapper.Count > 0 ? wrapper[0] : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (string w in wrapper.Skip(1))
        {
            psi.ArgumentList.Add(w);
        }

        if (wrapper.Count > 0)
        {
            psi.ArgumentList.Add("dotnet");
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            psi.Environment[name] = value;
        }

        psi.ArgumentList.Add(dll);
        psi.ArgumentList.Add(command);
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }

        var process = new Process { StartInfo = psi };
        var peer = new PeerProcess(process, command, output);
        process.OutputDataReceived += (_, e) => peer.Append(peer._stdout, "out", e.Data);
        process.ErrorDataReceived += (_, e) => peer.Append(peer._stderr, "err", e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return peer;
    }

    /// <summary>Waits for the child to exit and returns its exit code; kills it and fails on timeout.</summary>
    public int WaitForExit(TimeSpan? timeout = null)
    {
        var limit = timeout ?? DefaultTimeout;
        if (!_process.WaitForExit(limit))
        {
            Kill();
            throw new TimeoutException($"peer '{_name}' (pid {Pid}) did not exit within {limit.TotalSeconds} s; killed. stderr: {StandardError}");
        }

        _process.WaitForExit(); // drains the asynchronous output readers
        return _process.ExitCode;
    }

    /// <summary>
    /// Waits for the child to exit and returns its exit code, for as long as it prints: kills it and
    /// fails only when it printed no line (stdout or stderr) for <paramref name="quiet"/>, so a
    /// loaded machine stretches the wait instead of failing a child that still makes progress.
    /// </summary>
    public int WaitForExitWhileProgressing(TimeSpan quiet)
    {
        while (!_process.WaitForExit(TimeSpan.FromMilliseconds(100)))
        {
            TimeSpan silent = Stopwatch.GetElapsedTime(Volatile.Read(ref _lastOutput));
            if (silent > quiet)
            {
                Kill();
                throw new TimeoutException($"peer '{_name}' (pid {Pid}) printed nothing for {silent.TotalSeconds:F1} s (bound {quiet.TotalSeconds} s); killed. stdout: {StandardOutput}\nstderr: {StandardError}");
            }
        }

        _process.WaitForExit(); // drains the asynchronous output readers
        return _process.ExitCode;
    }

    /// <summary>Waits for exit and asserts exit code 0, showing the child's stderr otherwise.</summary>
    public void AssertSuccess(TimeSpan? timeout = null)
    {
        int code = WaitForExit(timeout);
        Assert.True(code == 0, $"peer '{_name}' exited with {code}. stderr:\n{StandardError}\nstdout:\n{StandardOutput}");
    }

    /// <summary>Waits until the child prints a line containing <paramref name="marker"/> on stdout.</summary>
    public void WaitForOutput(string marker, TimeSpan? timeout = null)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)((timeout ?? DefaultTimeout).TotalSeconds * Stopwatch.Frequency);
        while (!StandardOutput.Contains(marker, StringComparison.Ordinal))
        {
            if (_process.HasExited && !StandardOutput.Contains(marker, StringComparison.Ordinal))
            {
                _process.WaitForExit();
                if (!StandardOutput.Contains(marker, StringComparison.Ordinal))
                {
                    throw new InvalidOperationException($"peer '{_name}' exited with {_process.ExitCode} before printing '{marker}'. stderr: {StandardError}");
                }

                return;
            }

            if (Stopwatch.GetTimestamp() > deadline)
            {
                throw new TimeoutException($"peer '{_name}' did not print '{marker}' in time. stderr: {StandardError}");
            }

            Thread.Sleep(5);
        }
    }

    /// <summary>Writes a line to the child's stdin.</summary>
    public void WriteLine(string line)
    {
        _process.StandardInput.WriteLine(line);
        _process.StandardInput.Flush();
    }

    /// <summary>Kills the child (and its descendants) if it still runs.</summary>
    public void Kill()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }

    private void Append(StringBuilder sb, string stream, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (sb)
        {
            sb.AppendLine(line);
        }

        Volatile.Write(ref _lastOutput, Stopwatch.GetTimestamp());

        try
        {
            _output?.WriteLine($"[{_name} {stream}] {line}");
        }
        catch (InvalidOperationException)
        {
            // The test already finished; xunit refuses late output.
        }
    }
}
