using System.CommandLine;
using SyscallForward.Executor;

namespace SyscallForward;

/// <summary>Options every server mode takes.</summary>
internal static class CommonOptions
{
    /// <summary>The directory served.</summary>
    public static Option<DirectoryInfo> Root() => new("--root")
    {
        Description = "The directory the server serves: every path a client opens stays beneath it.",
        Required = true,
    };

    /// <summary>How paths are confined.</summary>
    public static Option<ConfinementMode> Confinement() => new("--confinement")
    {
        Description = "auto (openat2 RESOLVE_BENEATH where the kernel has it), openat2, or walk (the fallback).",
        DefaultValueFactory = _ => ConfinementMode.Auto,
    };

    /// <summary>Cancelled by SIGTERM or SIGINT (Ctrl+C), so a server ends its loop and logs its counts.</summary>
    public static CancellationTokenSource StopOnTermination(out IDisposable registrations)
    {
        var stop = new CancellationTokenSource();
        void Handler(System.Runtime.InteropServices.PosixSignalContext context)
        {
            context.Cancel = true;
            stop.Cancel();
        }

        var term = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, Handler);
        var interrupt = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGINT, Handler);
        registrations = new Registrations(term, interrupt);
        return stop;
    }

    private sealed class Registrations(IDisposable first, IDisposable second) : IDisposable
    {
        public void Dispose()
        {
            first.Dispose();
            second.Dispose();
        }
    }
}
