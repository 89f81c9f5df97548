using System.Diagnostics.Metrics;
using UintrIpc.Metrics;

namespace UintrIpc.Tests.Metrics;

/// <summary>
/// A <see cref="MeterListener"/> over the UintrIpc instruments that <paramref name="include"/>
/// selects; <see cref="Collect"/> records the observable instruments once and returns each
/// measurement by instrument and tag value (uintripc.channel.name or uintripc.rpc.endpoint, then uintripc.rpc.side or error.type, joined by |).
/// </summary>
internal sealed class InstrumentReader : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly Dictionary<(string Instrument, string Key), double> _values = [];
    private readonly Dictionary<(string Instrument, string Key), KeyValuePair<string, object?>[]> _tags = [];
    private readonly Dictionary<string, Instrument> _instruments = [];

    /// <param name="include">Which instruments to listen to (e.g. those of one meter factory).</param>
    public InstrumentReader(Func<Instrument, bool> include)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == UintrIpcMeter.MeterName && include(instrument))
            {
                lock (_instruments)
                {
                    _instruments[instrument.Name] = instrument;
                }

                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.Start();
    }

    /// <summary>The instruments seen, by name.</summary>
    public IReadOnlyDictionary<string, Instrument> Instruments
    {
        get
        {
            lock (_instruments)
            {
                return new Dictionary<string, Instrument>(_instruments);
            }
        }
    }

    /// <summary>Collects every observable instrument once: (instrument, key tag value) to value.</summary>
    public IReadOnlyDictionary<(string Instrument, string Key), double> Collect() => Collect(out _);

    /// <summary>As <see cref="Collect()"/>, with the tags of each measurement.</summary>
    public IReadOnlyDictionary<(string Instrument, string Key), double> Collect(out Dictionary<(string Instrument, string Key), KeyValuePair<string, object?>[]> tags)
    {
        lock (_values)
        {
            _values.Clear();
            _tags.Clear();
            _listener.RecordObservableInstruments();
            tags = new(_tags);
            return new Dictionary<(string, string), double>(_values);
        }
    }

    public void Dispose() => _listener.Dispose();

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        string key = "";
        foreach (var tag in tags)
        {
            if (tag.Key is "uintripc.channel.name" or "uintripc.rpc.endpoint" or "uintripc.rpc.side" or "error.type")
            {
                key = key.Length == 0 ? tag.Value?.ToString() ?? "" : $"{key}|{tag.Value}";
            }
        }

        // Called inside RecordObservableInstruments, under the lock Collect holds.
        if (!_values.TryAdd((instrument.Name, key), value))
        {
            throw new InvalidOperationException($"{instrument.Name} reported {key} twice in one collection");
        }

        _tags[(instrument.Name, key)] = tags.ToArray();
    }
}
