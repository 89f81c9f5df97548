using System.Globalization;
using System.Text.RegularExpressions;
using Tmds.Linux;
using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.SyscallForward;

/// <summary>The SyscallForward program running as a real process (killed on Dispose if it still runs).</summary>
public sealed partial class ForwardServerProcess : IDisposable
{
    private readonly PeerProcess _process;

    private ForwardServerProcess(PeerProcess process, string readyMarker)
    {
        _process = process;
        process.WaitForOutput(readyMarker);
        var match = ReadyLine().Match(process.StandardOutput);
        Pid = match.Success ? int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : process.Pid;
        Tid = match.Success ? int.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture) : 0;
    }

    /// <summary>The server's pid.</summary>
    public int Pid { get; }

    /// <summary>The serving thread's tid (what the seed peer signals).</summary>
    public int Tid { get; }

    /// <summary>Everything the server printed.</summary>
    public string Output => _process.StandardOutput;

    /// <summary>Starts `SyscallForward command args...` and waits until it prints <paramref name="readyMarker"/>.</summary>
    public static ForwardServerProcess Start(ITestOutputHelper? output, string readyMarker, string command, params string[] args)
        => StartWrapped(output, [], readyMarker, command, args);

    /// <summary>As <see cref="Start"/>, run through <paramref name="wrapper"/> (e.g. setpriv, to drop privileges).</summary>
    public static ForwardServerProcess StartWrapped(ITestOutputHelper? output, IReadOnlyList<string> wrapper, string readyMarker, string command, params string[] args)
        => StartFrom(AppContext.BaseDirectory, output, wrapper, readyMarker, command, args);

    /// <summary>As <see cref="StartWrapped"/>, with the program taken from <paramref name="programDirectory"/> (e.g. a copy another user can read).</summary>
    public static ForwardServerProcess StartFrom(string programDirectory, ITestOutputHelper? output, IReadOnlyList<string> wrapper, string readyMarker, string command, params string[] args)
        => new(PeerProcess.StartProgram(output, Path.Combine(programDirectory, "SyscallForward.dll"), wrapper, null, command, args), readyMarker);

    /// <summary>Asks the server to stop (SIGTERM), waits and asserts a clean exit.</summary>
    public void Stop()
    {
        Assert.Equal(0, LibC.kill(_process.Pid, LibC.SIGTERM));
        _process.AssertSuccess(TimeSpan.FromSeconds(30));
    }

    /// <summary>Kills the server at once (SIGKILL).</summary>
    public void Kill() => _process.Kill();

    /// <inheritdoc />
    public void Dispose() => _process.Dispose();

    [GeneratedRegex(@"pid=(\d+) tid=(\d+)")]
    private static partial Regex ReadyLine();
}
