using System.Diagnostics.Metrics;

namespace UintrIpc.Metrics;

/// <summary>
/// Objects of this process that report to the instruments (RPC servers and clients), held
/// weakly (metrics never keep one alive) with their tags, until they are disposed or collected.
/// </summary>
internal sealed class WeakSources<T>(Func<T, bool> isDisposed)
    where T : class
{
    private readonly Lock _lock = new();
    private readonly List<(WeakReference<T> Source, KeyValuePair<string, object?>[] Tags)> _sources = [];

    internal void Add(T source, params KeyValuePair<string, object?>[] tags)
    {
        lock (_lock)
        {
            _sources.RemoveAll(s => !s.Source.TryGetTarget(out T? live) || isDisposed(live));
            _sources.Add((new WeakReference<T>(source), tags));
        }
    }

    /// <summary>One measurement per live source.</summary>
    internal List<Measurement<long>> Collect(Func<T, long> select) => Collect(source => [(select(source), null)]);

    /// <summary>
    /// Several measurements per live source, each with the source's tags and, when given, more
    /// (for example error.type, or a session's id and side). <paramref name="select"/> returns a
    /// materialised list; an <see cref="ObjectDisposedException"/> from it drops the source.
    /// </summary>
    internal List<Measurement<long>> Collect(Func<T, IEnumerable<(long Value, KeyValuePair<string, object?>[]? Tags)>> select)
    {
        var measurements = new List<Measurement<long>>();
        lock (_lock)
        {
            for (int i = _sources.Count - 1; i >= 0; i--)
            {
                var (weak, tags) = _sources[i];
                if (!weak.TryGetTarget(out T? source) || isDisposed(source))
                {
                    _sources.RemoveAt(i);
                    continue;
                }

                IEnumerable<(long Value, KeyValuePair<string, object?>[]? Tags)> values;
                try
                {
                    values = select(source);
                }
                catch (ObjectDisposedException)
                {
                    _sources.RemoveAt(i); // disposed since the check above
                    continue;
                }

                foreach (var (value, extra) in values)
                {
                    measurements.Add(new Measurement<long>(value, extra is null ? tags : [.. tags, .. extra]));
                }
            }
        }

        return measurements;
    }
}
