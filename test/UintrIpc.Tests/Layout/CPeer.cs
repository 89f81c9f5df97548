using System.Diagnostics;
using System.Globalization;
using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.Layout;

/// <summary>
/// The C echo peer (test/native/echo_peer.c), built by the test project's BuildNativeTestPeers
/// target into the output folder. It consumes {sequence, value} from the SPSC slot ring with
/// tag 0 and produces {sequence, value * 2 + 1} into the one with tag 1.
/// </summary>
internal sealed class CPeer : IDisposable
{
    /// <summary>Exit code for a region or ring the peer refused.</summary>
    internal const int ExitInvalid = 2;

    /// <summary>Exit code when the other side made no progress within the timeout.</summary>
    internal const int ExitTimeout = 3;

    private readonly Process _process;

    private CPeer(Process process) => _process = process;

    /// <summary>Path of the built peer.</summary>
    internal static string ProgramPath => Path.Combine(AppContext.BaseDirectory, "native", "uintripc-echo-peer");

    /// <summary>Starts the peer on the named region; it echoes <paramref name="count"/> messages.</summary>
    internal static CPeer Start(string shmName, int count, TimeSpan timeout)
    {
        Assert.True(File.Exists(ProgramPath), $"{ProgramPath} is missing: the test project's make step (test/native) did not run.");
        return new CPeer(ExternalProgram.Start(ProgramPath, shmName, count.ToString(CultureInfo.InvariantCulture),
            ((long)timeout.TotalMilliseconds).ToString(CultureInfo.InvariantCulture)));
    }

    /// <summary>Runs the peer to completion (bounded).</summary>
    internal static ExternalProgram.Result Run(string shmName, int count, TimeSpan timeout)
    {
        using var peer = Start(shmName, count, timeout);
        return peer.Finish();
    }

    /// <summary>Waits (bounded) for the peer to exit and returns what it printed.</summary>
    internal ExternalProgram.Result Finish() => ExternalProgram.Finish(_process);

    /// <summary>Kills the peer if it still runs.</summary>
    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                _process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }

        _process.Dispose();
    }
}
