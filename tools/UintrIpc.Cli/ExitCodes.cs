namespace UintrIpc.Cli;

/// <summary>The exit codes of uintr-ipc (also listed in its help and in docs/uintr-ipc-tool.md).</summary>
internal static class ExitCodes
{
    /// <summary>Done.</summary>
    internal const int Ok = 0;

    /// <summary>An unexpected failure (the message says what).</summary>
    internal const int Failure = 1;

    /// <summary>The command line was wrong (the message and the help say how).</summary>
    internal const int Usage = 2;

    /// <summary>No such region (or no benchmark harness to run).</summary>
    internal const int NotFound = 3;

    /// <summary>The region exists but this user may not open it.</summary>
    internal const int PermissionDenied = 4;

    /// <summary>The file is not a UintrIpc region (another program's shared memory, or not published yet).</summary>
    internal const int NotARegion = 5;

    /// <summary>A UintrIpc region whose header does not validate (corrupted, or another layout version).</summary>
    internal const int Corrupted = 6;

    /// <summary>One line per code, for the help text.</summary>
    internal const string Summary = """
        Exit codes: 0 ok, 1 unexpected failure, 2 usage error, 3 no such region (or no benchmark
        harness), 4 permission denied, 5 not a UintrIpc region, 6 corrupted or incompatible region.
        """;
}
