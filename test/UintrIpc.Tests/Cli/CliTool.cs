using System.Diagnostics;
using System.Text.Json;
using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.Cli;

/// <summary>Runs the uintr-ipc tool (tools/UintrIpc.Cli, built into the test output folder) as a process.</summary>
internal static class CliTool
{
    /// <summary>The tool's assembly beside the tests.</summary>
    internal static string Dll => Path.Combine(AppContext.BaseDirectory, "uintr-ipc.dll");

    /// <summary>`dotnet uintr-ipc.dll args...`, optionally behind a wrapper program (e.g. setpriv ...).</summary>
    internal static ProcessStartInfo StartInfo(string[] args, params string[] wrapper)
        => wrapper.Length == 0
            ? ExternalProgram.StartInfo("dotnet", [Dll, .. args])
            : ExternalProgram.StartInfo(wrapper[0], [.. wrapper[1..], "dotnet", Dll, .. args]);

    /// <summary>Runs the tool to completion (bounded).</summary>
    internal static ExternalProgram.Result Run(params string[] args) => ExternalProgram.Run(StartInfo(args));

    /// <summary>Runs the tool, asserts exit code 0 and parses its standard output as JSON.</summary>
    internal static JsonElement RunJson(params string[] args)
    {
        var result = Run(args);
        Assert.True(result.ExitCode == 0, result.ToString());
        using var document = JsonDocument.Parse(result.StandardOutput);
        return document.RootElement.Clone();
    }
}
