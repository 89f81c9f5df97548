using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;

namespace UintrIpc.Bench.Processes;

// Design:
//   The bench re-executes its own dll as the child (`dotnet UintrIpc.Bench.dll --child ROLE
//   --key value ...`, or the apphost when that is what runs us). The child talks back on
//   stdout, one line per event: `READY {json}` once it is set up (with the numbers of the
//   descriptors the parent should take with pidfd_getfd), `RESULT {json}` at the end (its
//   own CPU time and counters), or `ERROR text`. stdin stays open: the child exits when it
//   reaches end of file, so it never outlives the harness. stderr is collected for error
//   messages. Every wait here is bounded; Dispose kills a child that is still running.

/// <summary>One child process of the harness, with bounded waits and kill-on-dispose.</summary>
internal sealed class ChildProcess : IDisposable
{
    private readonly Process _process;
    private readonly BlockingCollection<string> _lines = new();
    private readonly ConcurrentQueue<string> _stderr = new();
    private readonly Thread _reader;
    private bool _disposed;
    private long _stderrLines;

    private ChildProcess(Process process)
    {
        _process = process;
        _reader = new Thread(ReadStdout) { IsBackground = true, Name = $"child {process.Id} stdout" };
        _reader.Start();
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { } line)
            {
                Interlocked.Increment(ref _stderrLines);
                _stderr.Enqueue(line);
                while (_stderr.Count > 50 && _stderr.TryDequeue(out string? _))
                {
                }
            }
        };
        process.BeginErrorReadLine();
    }

    public int Id => _process.Id;

    public string Role { get; private init; } = string.Empty;

    /// <summary>
    /// Starts the child: this harness in the role of <paramref name="args"/>, or the program
    /// <paramref name="program"/> (a dll run with dotnet) with the role's arguments only.
    /// Descriptors the caller made inheritable are passed on.
    /// </summary>
    public static ChildProcess Start(ChildArgs args, string? program = null) => Start(args, program, native: null);

    private static ChildProcess Start(ChildArgs args, string? program, string? native)
    {
        var psi = new ProcessStartInfo
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        string host = Environment.ProcessPath ?? "dotnet";
        psi.FileName = host;
        if (native is not null)
        {
            psi.FileName = native; // a C program that speaks the child protocol: every argument, --child ROLE first
        }
        else if (program is not null)
        {
            psi.FileName = "dotnet";
            psi.ArgumentList.Add(program);
        }
        else if (Path.GetFileNameWithoutExtension(host) == "dotnet")
        {
            psi.ArgumentList.Add(typeof(ChildProcess).Assembly.Location);
        }

        foreach (var a in args.ToArguments().Skip(program is null ? 0 : 2))
        {
            psi.ArgumentList.Add(a);
        }

        var process = Affinity.WithAllCpus(() => Process.Start(psi)) ?? throw new InvalidOperationException($"Could not start {host}.");
        return new ChildProcess(process) { Role = args.Role };
    }

    /// <summary>
    /// Starts a child that inherits <paramref name="region"/>'s descriptor (<c>--region-fd</c>) and
    /// <paramref name="extraFd"/> (<c>--peer-fd</c>, or -1); the inheritable duplicates are closed once it runs.
    /// With <paramref name="native"/>, that program runs the role instead of this harness (bench/native's --child).
    /// </summary>
    public static ChildProcess Start(ChildArgs args, UintrIpc.Memory.SharedRegion? region, System.Runtime.InteropServices.SafeHandle? extraFd = null,
        string? native = null)
    {
        using var regionFd = region is null ? null : FdPassing.Inheritable(region.FileHandle);
        using var peerFd = extraFd is null ? null : FdPassing.Inheritable(extraFd);
        if (regionFd is not null)
        {
            args.Set("region-fd", regionFd.Fd);
        }

        return Start(args.Set("peer-fd", peerFd?.Fd ?? -1), program: null, native);
    }

    /// <summary>Waits for the line `<paramref name="tag"/> {json}` and returns the json.</summary>
    /// <exception cref="TimeoutException">Nothing came in time (the child is killed by Dispose).</exception>
    /// <exception cref="InvalidOperationException">The child reported an error or exited.</exception>
    public JsonElement WaitFor(string tag, TimeSpan timeout) => WaitFor(tag, timeout, untilQuiet: false);

    /// <summary>
    /// <see cref="WaitFor"/> for a child's start (READY): the bound <paramref name="quiet"/> runs from
    /// the child's last progress, not from the start: a line on stdout or stderr, or CPU time it used
    /// since the last look. On the emulated uintr machine (10-100x slower) a .NET child's start-up
    /// took most of a fixed 30 s and once all of it beside a build; a child that hangs (no output,
    /// no CPU) still fails after <paramref name="quiet"/>. A child that spins before READY is bounded
    /// by its own deadline (ChildHost: --deadline-ms and 5 s), after which it exits and this wait ends.
    /// </summary>
    public JsonElement WaitForStart(string tag, TimeSpan quiet) => WaitFor(tag, quiet, untilQuiet: true);

    private JsonElement WaitFor(string tag, TimeSpan timeout, bool untilQuiet)
    {
        long start = Stopwatch.GetTimestamp();
        long bound = (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        long lastProgress = start;
        long mark = untilQuiet ? ProgressMark() : 0;
        while (true)
        {
            long now = Stopwatch.GetTimestamp();
            if (untilQuiet && ProgressMark() is var newMark && newMark != mark)
            {
                (mark, lastProgress) = (newMark, now); // starting (loading, compiling): progress without stdout
            }

            long left = lastProgress + bound - now;
            if (left <= 0)
            {
                throw new TimeoutException(untilQuiet
                    ? $"child {Role} ({Id}) sent no {tag}: no output and no CPU time for {timeout.TotalSeconds:0.#} s (started {Stopwatch.GetElapsedTime(start).TotalSeconds:0.#} s ago){StderrTail()}"
                    : $"child {Role} ({Id}) sent no {tag} within {timeout.TotalSeconds:0.#} s{StderrTail()}");
            }

            // At most a second at a time while watching for progress, so the CPU time is looked at again.
            long wait = untilQuiet ? Math.Min(left, Stopwatch.Frequency) : left;
            if (!_lines.TryTake(out var line, TimeSpan.FromTicks(Math.Max(1, wait * TimeSpan.TicksPerSecond / Stopwatch.Frequency))))
            {
                if (_lines.IsCompleted)
                {
                    _process.WaitForExit(1000);
                    throw new InvalidOperationException($"child {Role} ({Id}) exited{ExitText()} before {tag}{StderrTail()}");
                }

                continue;
            }

            lastProgress = untilQuiet ? Stopwatch.GetTimestamp() : lastProgress;
            if (line.StartsWith("ERROR", StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"child {Role}: {line[5..].Trim()}{StderrTail()}");
            }

            if (line.StartsWith(tag + " ", StringComparison.Ordinal))
            {
                using var doc = JsonDocument.Parse(line.AsMemory(tag.Length + 1));
                return doc.RootElement.Clone();
            }

            // Anything else is diagnostics; keep it for error messages.
            _stderr.Enqueue(line);
        }
    }

    /// <summary>Writes a line to the child's stdin.</summary>
    public void Send(string line)
    {
        _process.StandardInput.WriteLine(line);
        _process.StandardInput.Flush();
    }

    /// <summary>Waits for the child to exit; false when it did not within <paramref name="timeout"/>.</summary>
    public bool WaitForExit(TimeSpan timeout) => _process.WaitForExit(timeout);

    public int ExitCode => _process.ExitCode;

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        try
        {
            if (!_process.HasExited)
            {
                // Closing stdin asks it to go; a child stuck in a spin loop is killed.
                try
                {
                    _process.StandardInput.Close();
                }
                catch (IOException)
                {
                }

                if (!_process.WaitForExit(TimeSpan.FromMilliseconds(500)))
                {
                    _process.Kill(entireProcessTree: true);
                    _process.WaitForExit(TimeSpan.FromSeconds(5));
                }
            }
        }
        catch (InvalidOperationException)
        {
            // Not started or already gone.
        }
        finally
        {
            _reader.Join(TimeSpan.FromSeconds(1));
            _process.Dispose();
            _lines.Dispose();
        }
    }

    private void ReadStdout()
    {
        try
        {
            while (_process.StandardOutput.ReadLine() is { } line)
            {
                _lines.Add(line);
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
        {
        }
        finally
        {
            try
            {
                _lines.CompleteAdding();
            }
            catch (ObjectDisposedException)
            {
            }
        }
    }

    /// <summary>A mark that grows while the child makes progress: its CPU time (user and system) in ticks plus its stderr lines.</summary>
    private long ProgressMark()
    {
        long lines = Interlocked.Read(ref _stderrLines);
        try
        {
            _process.Refresh();
            return _process.TotalProcessorTime.Ticks + lines;
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception or NotSupportedException)
        {
            return lines; // exited: the stdout reader's end says so next
        }
    }

    private string ExitText()
    {
        try
        {
            return _process.HasExited ? $" with code {_process.ExitCode}" : string.Empty;
        }
        catch (InvalidOperationException)
        {
            return string.Empty;
        }
    }

    private string StderrTail()
    {
        var lines = _stderr.ToArray();
        return lines.Length == 0 ? string.Empty : "; its output ended with: " + string.Join(" | ", lines.TakeLast(8));
    }
}
