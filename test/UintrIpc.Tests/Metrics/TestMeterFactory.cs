using System.Diagnostics.Metrics;

namespace UintrIpc.Tests.Metrics;

/// <summary>
/// An <see cref="IMeterFactory"/> as a dependency-injection container provides one: meters
/// scoped to it (<see cref="Meter.Scope"/>), so a test listens to its own channels only, and
/// disposed with it.
/// </summary>
internal sealed class TestMeterFactory : IMeterFactory
{
    private readonly List<Meter> _meters = [];

    public Meter Create(MeterOptions options)
    {
        var meter = new Meter(new MeterOptions(options.Name) { Version = options.Version, Tags = options.Tags, Scope = this });
        lock (_meters)
        {
            _meters.Add(meter);
        }

        return meter;
    }

    public void Dispose()
    {
        lock (_meters)
        {
            _meters.ForEach(m => m.Dispose());
            _meters.Clear();
        }
    }
}
