using System.Xml.Linq;
using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.Packaging;

/// <summary>
/// Someone who has never seen this repository and has no C compiler: a fresh console project
/// in a temporary folder references the packed package from a local folder feed, builds, and
/// runs as two processes that exchange messages (the program of samples/UintrIpc.HelloChannel).
/// </summary>
[Collection(CrossProcessCollection.Name)]
public sealed class PackageConsumerTests(PackedLibrary package, ITestOutputHelper output) : IClassFixture<PackedLibrary>
{
    private static readonly string[] s_compilers = ["gcc", "cc", "clang", "make", "ld"];

    [Fact]
    public void Fresh_console_project_builds_and_runs_two_processes_from_the_package_without_a_compiler()
    {
        string root = Path.Combine(package.TempDirectory, "consumer");
        string app = Directory.CreateDirectory(Path.Combine(root, "app")).FullName;
        File.Copy(RepositoryFiles.Path("samples", "UintrIpc.HelloChannel", "Program.cs"), Path.Combine(app, "Program.cs"));
        WriteProject(Path.Combine(app, "Consumer.csproj"), $"""<PackageReference Include="UintrIpc" Version="{package.Version}" />""");
        WriteNuGetConfig(Path.Combine(app, "NuGet.config"), package.Feed, Path.Combine(root, "packages"));
        string path = PathWithOnlyDotnet(Path.Combine(root, "bin"));

        var build = DotnetSdk.Run(app, path, "build", "-c", "Release");
        output.WriteLine(build.StandardOutput);
        // The consumer uses the package it was given, restored into its own folder.
        Assert.True(Directory.Exists(Path.Combine(root, "packages", "uintripc", package.Version)), "the package was not restored from the local feed");

        var psi = ExternalProgram.StartInfo(Path.Combine(app, "bin", "Release", "net10.0", "Consumer"));
        psi.Environment["PATH"] = path;
        var run = ExternalProgram.Run(psi, TimeSpan.FromSeconds(60));
        output.WriteLine(run.ToString());
        Assert.True(run.ExitCode == 0, run.ToString());

        string[] lines = run.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        int[] childPids = Pids(lines, "child", "ping");
        int[] parentPids = Pids(lines, "parent", "pong");
        Assert.Equal(3, childPids.Length);
        Assert.Equal(3, parentPids.Length);
        Assert.Single(childPids.Distinct());
        Assert.Single(parentPids.Distinct());
        Assert.NotEqual(childPids[0], parentPids[0]); // two processes
        // The shim came out of the package into the consumer's output, not from this repository.
        string shim = Assert.Single(lines, l => l.StartsWith("native shim: ", StringComparison.Ordinal))["native shim: ".Length..];
        Assert.Equal(Path.Combine(app, "bin", "Release", "net10.0", "runtimes", "linux-x64", "native", "libuintripc.so"), shim);
    }

    /// <summary>
    /// A user copies the syscall-forwarding sample (its C# sources, the package's best-known use)
    /// into a project of their own that has only the package: it builds, so the sample uses
    /// nothing the package keeps internal. (Its C programs come with the repository, not the package.)
    /// </summary>
    [Fact]
    public void The_SyscallForward_sample_builds_from_the_package_alone()
    {
        string sample = RepositoryFiles.Path("samples", "SyscallForward");
        string root = Path.Combine(package.TempDirectory, "forward-consumer");
        string app = Directory.CreateDirectory(Path.Combine(root, "app")).FullName;
        string[] sources = [.. Directory.EnumerateFiles(sample, "*.cs", SearchOption.AllDirectories)
            .Where(f => Path.GetRelativePath(sample, f).Split('/')[0] is not ("obj" or "bin"))];
        Assert.Contains(sources, f => f.EndsWith("SeedServer.cs", StringComparison.Ordinal));
        foreach (string source in sources)
        {
            string copy = Path.Combine(app, Path.GetRelativePath(sample, source));
            Directory.CreateDirectory(Path.GetDirectoryName(copy)!);
            File.Copy(source, copy);
        }

        var versions = XDocument.Load(RepositoryFiles.Path("Directory.Packages.props")).Descendants("PackageVersion")
            .ToDictionary(e => (string)e.Attribute("Include")!, e => (string)e.Attribute("Version")!, StringComparer.Ordinal);
        WriteProject(Path.Combine(app, "SyscallForward.csproj"), $"""
            <PackageReference Include="UintrIpc" Version="{package.Version}" />
            <PackageReference Include="System.CommandLine" Version="{versions["System.CommandLine"]}" />
            <PackageReference Include="Tmds.LibC" Version="{versions["Tmds.LibC"]}" />
            """);
        WriteNuGetConfig(Path.Combine(app, "NuGet.config"), package.Feed, Path.Combine(root, "packages"));

        var build = DotnetSdk.Run(app, null, "build", "-c", "Release"); // asserts exit 0
        output.WriteLine(build.StandardOutput);
        Assert.True(Directory.Exists(Path.Combine(root, "packages", "uintripc", package.Version)), "the package was not restored from the local feed");
        Assert.True(File.Exists(Path.Combine(app, "bin", "Release", "net10.0", "SyscallForward.dll")), build.ToString());
    }

    /// <summary>Process ids of the lines "{who} {pid} received '{word} 1..3'", in order, checking the message numbers.</summary>
    private static int[] Pids(string[] lines, string who, string word)
    {
        var pids = new List<int>();
        foreach (string line in lines.Where(l => l.StartsWith(who + " ", StringComparison.Ordinal)))
        {
            string[] parts = line.Split(' ');
            Assert.Equal($"'{word}", parts[3]);
            Assert.Equal($"{pids.Count + 1}'", parts[4]);
            pids.Add(int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture));
        }

        return [.. pids];
    }

    /// <summary>A console project like `dotnet new console`'s, with <paramref name="packageReferences"/> and unsafe code allowed (the forwarding sample calls libc).</summary>
    private static void WriteProject(string file, string packageReferences) => File.WriteAllText(file, $"""
        <Project Sdk="Microsoft.NET.Sdk">
          <PropertyGroup>
            <OutputType>Exe</OutputType>
            <TargetFramework>net10.0</TargetFramework>
            <ImplicitUsings>enable</ImplicitUsings>
            <Nullable>enable</Nullable>
            <AllowUnsafeBlocks>true</AllowUnsafeBlocks>
          </PropertyGroup>
          <ItemGroup>
            {packageReferences}
          </ItemGroup>
        </Project>
        """);

    /// <summary>
    /// A NuGet.config for the consumer: the local feed and the repository's own sources (no
    /// other), packages restored into a folder of their own (so the test package never enters
    /// the user's cache), and the user's cache as a read-only fallback for the dependencies.
    /// </summary>
    private static void WriteNuGetConfig(string file, string feed, string packages)
    {
        var repositorySources = XDocument.Load(RepositoryFiles.Path("NuGet.config")).Descendants("packageSources").Single().Elements("add");
        new XDocument(new XElement("configuration",
            new XElement("config", new XElement("add", new XAttribute("key", "globalPackagesFolder"), new XAttribute("value", packages))),
            new XElement("packageSources",
                new XElement("clear"),
                new XElement("add", new XAttribute("key", "local-feed"), new XAttribute("value", feed)),
                repositorySources),
            new XElement("fallbackPackageFolders", new XElement("add", new XAttribute("key", "user-cache"), new XAttribute("value", DotnetSdk.GlobalPackagesFolder)))))
            .Save(file);
    }

    /// <summary>A PATH of one folder holding only a link to dotnet: no compiler, linker or make can be found.</summary>
    private static string PathWithOnlyDotnet(string folder)
    {
        Directory.CreateDirectory(folder);
        File.CreateSymbolicLink(Path.Combine(folder, "dotnet"), DotnetSdk.RequireExecutable());
        foreach (string tool in s_compilers)
        {
            Assert.False(File.Exists(Path.Combine(folder, tool)), $"{tool} is reachable through the consumer's PATH");
        }

        return folder;
    }
}
