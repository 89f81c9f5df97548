namespace UintrIpc.Cli;

/// <summary>A failure to report to the person at the terminal: one message and the exit code that classifies it.</summary>
internal sealed class CliException(int exitCode, string message, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>One of <see cref="ExitCodes"/>.</summary>
    public int ExitCode { get; } = exitCode;
}
