namespace UintrIpc.Tests.Infrastructure;

/// <summary>
/// Unique /dev/shm names for tests, removed on Dispose (also when the test failed).
/// Names start with "uintripc-test-" so leftovers are easy to spot.
/// </summary>
public sealed class ShmNames : IDisposable
{
    private readonly List<string> _names = [];

    /// <summary>A fresh unique name, registered for removal.</summary>
    public string New(string hint = "r")
    {
        string name = $"uintripc-test-{hint}-{Environment.ProcessId}-{Guid.NewGuid():N}";
        lock (_names)
        {
            _names.Add(name);
        }

        return name;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        lock (_names)
        {
            foreach (string name in _names)
            {
                File.Delete(Path.Combine("/dev/shm", name));
            }

            _names.Clear();
        }
    }
}
