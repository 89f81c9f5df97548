namespace UintrIpc.Tests.SyscallForward;

/// <summary>
/// A temporary tree for forwarding tests: <see cref="Root"/> is the directory a server serves,
/// <see cref="Outside"/> a sibling it must never reach (with a secret file in it). Removed on Dispose.
/// </summary>
public sealed class ScratchTree : IDisposable
{
    /// <summary>Creates the tree under the temp directory.</summary>
    public ScratchTree()
    {
        Base = Directory.CreateTempSubdirectory("uintripc-fwd-").FullName;
        Root = Directory.CreateDirectory(Path.Combine(Base, "root")).FullName;
        Outside = Directory.CreateDirectory(Path.Combine(Base, "outside")).FullName;
        File.WriteAllText(Path.Combine(Outside, "secret.txt"), "secret");
    }

    /// <summary>The parent of both.</summary>
    public string Base { get; }

    /// <summary>The served directory.</summary>
    public string Root { get; }

    /// <summary>A directory beside the root.</summary>
    public string Outside { get; }

    /// <summary>Writes a file beneath the root and returns its full path.</summary>
    public string WriteFile(string relative, string content)
    {
        string path = Path.Combine(Root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        return path;
    }

    /// <summary>Creates a symbolic link beneath the root pointing at <paramref name="target"/> (as given).</summary>
    public void Link(string relative, string target) => File.CreateSymbolicLink(Path.Combine(Root, relative), target);

    /// <inheritdoc />
    public void Dispose()
    {
        try
        {
            Directory.Delete(Base, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a test that failed may still hold a file open.
        }
    }
}
