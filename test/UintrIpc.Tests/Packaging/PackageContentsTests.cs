using System.IO.Compression;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Xml.Linq;
using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.Packaging;

/// <summary>What `dotnet pack` puts in UintrIpc.&lt;version&gt;.nupkg: everything a consumer needs and nothing that needs the repository.</summary>
[Collection(CrossProcessCollection.Name)]
public sealed class PackageContentsTests(PackedLibrary package) : IClassFixture<PackedLibrary>
{
    [Fact]
    public void Package_holds_the_assembly_its_docs_the_native_shim_and_the_readme()
    {
        using var zip = ZipFile.OpenRead(package.PackagePath);
        string[] names = [.. zip.Entries.Select(e => e.FullName)];
        Assert.Contains("lib/net10.0/UintrIpc.dll", names);
        Assert.Contains("lib/net10.0/UintrIpc.xml", names);
        Assert.Contains("runtimes/linux-x64/native/libuintripc.so", names);
        Assert.Contains("README.md", names);

        // The shim in the package is the one the build made, an x86-64 ELF shared object.
        byte[] shim = Read(zip, "runtimes/linux-x64/native/libuintripc.so");
        Assert.Equal(File.ReadAllBytes(RepositoryFiles.Path("interop", "build", "libuintripc.so")), shim);
        Assert.Equal("\u007fELF"u8.ToArray(), shim[..4]);
        Assert.Equal(62, BitConverter.ToUInt16(shim, 18)); // e_machine EM_X86_64

        Assert.Equal(File.ReadAllText(RepositoryFiles.Path("lib", "UintrIpc", "PACKAGE.md")), System.Text.Encoding.UTF8.GetString(Read(zip, "README.md")));
        Assert.Contains("T:UintrIpc.Channels.IpcChannel`1", System.Text.Encoding.UTF8.GetString(Read(zip, "lib/net10.0/UintrIpc.xml")), StringComparison.Ordinal);
        Assert.True(File.Exists(Path.ChangeExtension(package.PackagePath, ".snupkg")), "no symbol package (.snupkg) beside the package");
    }

    [Fact]
    public void Nuspec_has_the_version_from_Directory_Build_props_license_readme_and_tags()
    {
        using var zip = ZipFile.OpenRead(package.PackagePath);
        var nuspec = XDocument.Load(new MemoryStream(Read(zip, "UintrIpc.nuspec")));
        XNamespace ns = nuspec.Root!.Name.Namespace;
        var metadata = nuspec.Root.Element(ns + "metadata")!;
        Assert.Equal("UintrIpc", metadata.Element(ns + "id")!.Value);
        Assert.Equal(package.Version, metadata.Element(ns + "version")!.Value);
        Assert.StartsWith(PackedLibrary.VersionPrefix + "-", package.Version, StringComparison.Ordinal);
        var license = metadata.Element(ns + "license")!;
        Assert.Equal(("expression", "MIT"), (license.Attribute("type")!.Value, license.Value));
        Assert.Equal("README.md", metadata.Element(ns + "readme")!.Value);
        Assert.Contains("shared-memory", metadata.Element(ns + "tags")!.Value.Split(' '));
        Assert.False(string.IsNullOrWhiteSpace(metadata.Element(ns + "description")?.Value));
        // SourceLink: the commit the package was built from (the URL too, once the repository has a remote).
        Assert.Matches("^[0-9a-f]{40}$", metadata.Element(ns + "repository")?.Attribute("commit")?.Value ?? "");
    }

    [Fact]
    public void Packaged_assembly_is_deterministic_and_carries_nullable_annotations()
    {
        using var zip = ZipFile.OpenRead(package.PackagePath);
        using var pe = new PEReader(new MemoryStream(Read(zip, "lib/net10.0/UintrIpc.dll")));
        Assert.Contains(pe.ReadDebugDirectory(), entry => entry.Type == DebugDirectoryEntryType.Reproducible);

        MetadataReader metadata = pe.GetMetadataReader();
        var attributes = metadata.CustomAttributes.Select(a => AttributeName(metadata, metadata.GetCustomAttribute(a))).ToList();
        Assert.Contains("NullableContextAttribute", attributes);
        Assert.Contains("NullableAttribute", attributes);
    }

    private static string AttributeName(MetadataReader metadata, CustomAttribute attribute) => attribute.Constructor.Kind switch
    {
        HandleKind.MethodDefinition => metadata.GetString(metadata.GetTypeDefinition(
            metadata.GetMethodDefinition((MethodDefinitionHandle)attribute.Constructor).GetDeclaringType()).Name),
        HandleKind.MemberReference when metadata.GetMemberReference((MemberReferenceHandle)attribute.Constructor).Parent is { Kind: HandleKind.TypeReference } parent
            => metadata.GetString(metadata.GetTypeReference((TypeReferenceHandle)parent).Name),
        _ => string.Empty,
    };

    private static byte[] Read(ZipArchive zip, string name)
    {
        var entry = zip.GetEntry(name) ?? throw new InvalidOperationException($"{name} is not in the package");
        using var stream = entry.Open();
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
