namespace UintrIpc.Tests.Bootstrap;

/// <summary>
/// Unique socket paths (under the temp directory) and abstract names for tests; the paths
/// are removed on Dispose, also when the test failed. Names start with "uintripc-test-".
/// </summary>
public sealed class SocketNames : IDisposable
{
    private readonly List<string> _paths = [];

    /// <summary>A fresh socket path, registered for removal.</summary>
    public string NewPath(string hint = "s")
    {
        string path = Path.Combine(Path.GetTempPath(), $"uintripc-test-{hint}-{Environment.ProcessId}-{Guid.NewGuid():N}.sock");
        lock (_paths)
        {
            _paths.Add(path);
        }

        return path;
    }

    /// <summary>A fresh abstract name, written "@name" (nothing to remove: it vanishes with its socket).</summary>
    public static string NewAbstract(string hint = "a") => $"@uintripc-test-{hint}-{Environment.ProcessId}-{Guid.NewGuid():N}";

    /// <inheritdoc />
    public void Dispose()
    {
        lock (_paths)
        {
            foreach (string path in _paths)
            {
                File.Delete(path);
            }

            _paths.Clear();
        }
    }
}
