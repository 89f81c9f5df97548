using System.Diagnostics.Metrics;

namespace UintrIpc.Demo;

/// <summary>
/// The wake-up counters of each channel this process has open, read the way an application
/// reads them: through the meter named "UintrIpc" (docs/metrics.md), one set per value of the
/// uintripc.channel.name tag. The instruments are observable, so a snapshot reads the counters
/// the channels keep in shared memory anyway.
/// </summary>
internal sealed class ChannelCounters : IDisposable
{
    private const string ChannelTag = "uintripc.channel.name";
    private readonly MeterListener _listener = new();
    private SortedDictionary<string, Counts> _reading = new(StringComparer.Ordinal);

    public ChannelCounters()
    {
        _listener.InstrumentPublished = static (instrument, listener) =>
        {
            if (instrument.Meter.Name == "UintrIpc" && instrument.Name.StartsWith("uintripc.channel.", StringComparison.Ordinal))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            string channel = "";
            foreach (var tag in tags)
            {
                if (tag.Key == ChannelTag)
                {
                    channel = tag.Value as string ?? "";
                }
            }

            _reading[channel] = _reading.GetValueOrDefault(channel).With(instrument.Name, value);
        });
        _listener.Start();
    }

    /// <summary>Each channel's counters now, in the order of their names (observable instruments report on this thread).</summary>
    public IReadOnlyDictionary<string, Counts> Take()
    {
        _reading = new(StringComparer.Ordinal);
        _listener.RecordObservableInstruments();
        return _reading;
    }

    /// <summary>What each channel counted between two snapshots, in the order of their names.</summary>
    public static Counts[] Between(IReadOnlyDictionary<string, Counts> before, IReadOnlyDictionary<string, Counts> after) =>
        after.Select(c => c.Value - before.GetValueOrDefault(c.Key)).ToArray();

    public void Dispose() => _listener.Dispose();

    internal readonly record struct Counts(long WakeupsSent, long WakeupsSuppressed, long Sleeps, long Timeouts)
    {
        public Counts With(string instrument, long value) => instrument switch
        {
            "uintripc.channel.wakeups.sent" => this with { WakeupsSent = value },
            "uintripc.channel.wakeups.suppressed" => this with { WakeupsSuppressed = value },
            "uintripc.channel.sleeps" => this with { Sleeps = value },
            "uintripc.channel.timeouts" => this with { Timeouts = value },
            _ => this,
        };

        public static Counts operator -(Counts now, Counts before) => new(
            now.WakeupsSent - before.WakeupsSent, now.WakeupsSuppressed - before.WakeupsSuppressed,
            now.Sleeps - before.Sleeps, now.Timeouts - before.Timeouts);
    }
}
