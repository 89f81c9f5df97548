using System.Diagnostics;

namespace UintrIpc.Tests.Infrastructure;

/// <summary>
/// Runs the dotnet SDK (pack, build, publish) from a test, in a clean environment: none of the
/// variables `dotnet test` hands to its test host (MSBuild paths and the like) leak into the
/// nested build, and no build server outlives the command.
/// </summary>
internal static class DotnetSdk
{
    /// <summary>A bound generous enough for a restore and build on a busy 2-core machine.</summary>
    internal static readonly TimeSpan BuildTimeout = TimeSpan.FromMinutes(5);

    /// <summary>The real path of the dotnet executable (symbolic links resolved), or null if there is none on PATH.</summary>
    internal static string? Executable { get; } = ExternalProgram.FindOnPath("dotnet") is { } found
        ? new FileInfo(found).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? found
        : null;

    /// <summary>The NuGet packages folder the repository's own restore uses.</summary>
    internal static string GlobalPackagesFolder =>
        Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } folder
            ? folder
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");

    /// <summary>Skips the test when there is no dotnet SDK on this machine (the emulated uintr machine has only the runtime).</summary>
    internal static string RequireExecutable()
    {
        Assert.SkipWhen(Executable is null || !Directory.Exists(Path.Combine(Path.GetDirectoryName(Executable)!, "sdk")),
            "No .NET SDK on this machine (dotnet with an sdk folder on PATH).");
        return Executable!;
    }

    /// <summary>
    /// A `dotnet args...` command in <paramref name="workingDirectory"/> with a clean environment:
    /// HOME, PATH (<paramref name="path"/>, or the current PATH) and the variables that keep the
    /// SDK quiet. Build servers are disabled for build-like commands, so nothing stays running.
    /// </summary>
    internal static ProcessStartInfo Command(string workingDirectory, string? path, params string[] args)
    {
        var psi = ExternalProgram.StartInfo(RequireExecutable(), args);
        psi.WorkingDirectory = workingDirectory;
        psi.Environment.Clear();
        psi.Environment["HOME"] = Environment.GetEnvironmentVariable("HOME") ?? "/root";
        psi.Environment["PATH"] = path ?? Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        psi.Environment["DOTNET_CLI_UI_LANGUAGE"] = "en";
        if (Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } packages)
        {
            psi.Environment["NUGET_PACKAGES"] = packages;
        }

        if (args.Length > 0 && args[0] is "build" or "pack" or "publish" or "restore")
        {
            psi.ArgumentList.Add("--disable-build-servers");
        }

        return psi;
    }

    /// <summary>Runs <see cref="Command"/> to completion and asserts exit code 0, showing the output otherwise.</summary>
    internal static ExternalProgram.Result Run(string workingDirectory, string? path, params string[] args)
    {
        var result = ExternalProgram.Run(Command(workingDirectory, path, args), BuildTimeout);
        Assert.True(result.ExitCode == 0, $"dotnet {string.Join(' ', args)} failed in {workingDirectory}: {result}");
        return result;
    }
}
