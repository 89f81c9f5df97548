using System.Globalization;
using System.Xml.Linq;
using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.Packaging;

/// <summary>
/// The library packed once per test class (`dotnet pack --no-build` of the build the tests run
/// against, a few seconds) into a temporary local feed, with a unique prerelease suffix so that
/// no NuGet cache can hand a consumer an older package of the same version. Deleted on Dispose.
/// </summary>
public sealed class PackedLibrary : IDisposable
{
    private readonly Lazy<string> _feed;
    private DirectoryInfo? _temp;

    /// <summary>Creates the fixture; nothing is packed until a test asks.</summary>
    public PackedLibrary() => _feed = new Lazy<string>(Pack);

    /// <summary>The version the repository sets in Directory.Build.props (its one place).</summary>
    public static string VersionPrefix => XDocument.Load(RepositoryFiles.Path("Directory.Build.props"))
        .Descendants("VersionPrefix").Single().Value.Trim();

    /// <summary>The temporary directory everything of this fixture lives in.</summary>
    public string TempDirectory => (_temp ??= Directory.CreateTempSubdirectory("uintripc-package-")).FullName;

    /// <summary>The prerelease suffix of this run's package.</summary>
    public string Suffix { get; } = "test." + Guid.NewGuid().ToString("N")[..12];

    /// <summary>The package version this run packs.</summary>
    public string Version => $"{VersionPrefix}-{Suffix}";

    /// <summary>The local feed folder (packs on first use).</summary>
    public string Feed => _feed.Value;

    /// <summary>The path of the .nupkg (packs on first use).</summary>
    public string PackagePath => Path.Combine(Feed, $"UintrIpc.{Version}.nupkg");

    /// <inheritdoc />
    public void Dispose()
    {
        if (_temp is { Exists: true })
        {
            _temp.Delete(recursive: true);
        }
    }

    private string Pack()
    {
        string feed = Path.Combine(TempDirectory, "feed");
        DotnetSdk.Run(RepositoryFiles.Root, null, "pack", RepositoryFiles.Path("lib", "UintrIpc", "UintrIpc.csproj"),
            "--no-build", "-c", RepositoryFiles.Configuration, "-o", feed,
            "-p:VersionSuffix=" + Suffix.ToString(CultureInfo.InvariantCulture),
            "-p:NuspecOutputPath=" + Path.Combine(TempDirectory, "nuspec") + "/"); // not into the repository's obj/
        Assert.True(File.Exists(Path.Combine(feed, $"UintrIpc.{Version}.nupkg")), $"dotnet pack made no UintrIpc.{Version}.nupkg in {feed}");
        return feed;
    }
}
