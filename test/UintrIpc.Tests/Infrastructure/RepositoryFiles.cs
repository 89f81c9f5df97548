using System.Reflection;

namespace UintrIpc.Tests.Infrastructure;

/// <summary>
/// The repository this test assembly was built from (recorded at build time as assembly
/// metadata), for tests that pack, publish or read its files. Where the repository is not
/// there (the test assembly copied to the emulated uintr machine) those tests skip.
/// </summary>
internal static class RepositoryFiles
{
    private static readonly string? s_root = Metadata("UintrIpcRoot") is { Length: > 0 } root
        && File.Exists(System.IO.Path.Combine(root, "UintrIpc.sln")) ? System.IO.Path.GetFullPath(root) : null;

    /// <summary>The build configuration of the test assembly (Debug or Release); the library was built the same way.</summary>
    internal static string Configuration => Metadata("Configuration") ?? "Debug";

    /// <summary>The repository root; skips the test when it is not on this machine.</summary>
    internal static string Root
    {
        get
        {
            Assert.SkipWhen(s_root is null, "The repository this test assembly was built from is not on this machine.");
            return s_root!;
        }
    }

    /// <summary>A path inside the repository (skips the test when it is not here).</summary>
    internal static string Path(params string[] parts) => System.IO.Path.Combine([Root, .. parts]);

    private static string? Metadata(string key) => typeof(RepositoryFiles).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>()
        .FirstOrDefault(a => a.Key == key)?.Value;
}
