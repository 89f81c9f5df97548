namespace UintrIpc.Tests.Infrastructure;

/// <summary>
/// Unique /dev/shm names for tests, removed on Dispose (also when the test failed).
/// Names start with "uintripc-test-" so leftovers are easy to spot, followed by the value of
/// the environment variable UINTRIPC_TEST_RUN when it is set (.ci/run sets it, so that it can
/// tell its own leftovers from those of another run on the same machine).
/// </summary>
public sealed class ShmNames : IDisposable
{
    private static readonly string s_prefix = "uintripc-test-" +
        (Environment.GetEnvironmentVariable("UINTRIPC_TEST_RUN") is { Length: > 0 } run && !run.Contains('/', StringComparison.Ordinal) ? run + "-" : string.Empty);

    private readonly List<string> _names = [];

    /// <summary>A fresh unique name, registered for removal.</summary>
    public string New(string hint = "r")
    {
        string name = $"{s_prefix}{hint}-{Environment.ProcessId}-{Guid.NewGuid():N}";
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
