using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using UintrIpc.Channels;

namespace UintrIpc.Metrics;

/// <summary>
/// One <see cref="Meter"/> named <see cref="MeterName"/> with its observable
/// instruments, and the channels, RPC servers and clients that report to it. The process has
/// one for objects without a meter factory, and one per <see cref="IMeterFactory"/> given.
/// Instruments are read only when a listener collects: they cost the data path nothing
/// (docs/metrics.md lists them).
/// </summary>
internal sealed partial class UintrIpcMeter
{
    /// <summary>
    /// The meter's name, documented for users as a string (README "Metrics", docs/metrics.md):
    /// <c>dotnet-counters --counters UintrIpc</c>, OpenTelemetry's <c>AddMeter("UintrIpc")</c>.
    /// </summary>
    internal const string MeterName = "UintrIpc";

    internal const string ChannelNameTag = "uintripc.channel.name";
    internal const string RingKindTag = "uintripc.ring.kind";
    internal const string DoorbellTag = "uintripc.doorbell";
    internal const string ErrorTypeTag = "error.type";

    private static readonly string? s_version = typeof(UintrIpcMeter).Assembly.GetName().Version?.ToString();
    private static readonly Lazy<UintrIpcMeter> s_shared = new(() => new UintrIpcMeter(new Meter(Options())));
    private static readonly ConditionalWeakTable<IMeterFactory, UintrIpcMeter> s_byFactory = [];

    private readonly Lock _lock = new();
    private readonly List<ChannelObservation> _channels = [];

    private UintrIpcMeter(Meter meter)
    {
        Meter = meter;
        ChannelCounter("uintripc.channel.messages.sent", "{message}", "Elements written to the channel (channels of T; all writers, all processes).", static r => r.Slots ? r.Tail : null);
        ChannelCounter("uintripc.channel.messages.received", "{message}", "Elements read from the channel (channels of T).", static r => r.Slots ? r.Head : null);
        ChannelCounter("uintripc.channel.bytes.sent", "By", "Bytes written: elements times their size; message channels: ring bytes (8-byte header and payload, rounded up to 8, and wrap padding).", static r => r.BytesSent);
        ChannelCounter("uintripc.channel.bytes.received", "By", "Bytes read, counted as uintripc.channel.bytes.sent.", static r => r.BytesReceived);
        ChannelCounter("uintripc.channel.wakeups.sent", "{wakeup}", "Doorbell rings: writes that found the reader asleep and woke it.", static r => ChannelReading.Clamp(r.Counters.WakeupsSent));
        ChannelCounter("uintripc.channel.wakeups.suppressed", "{wakeup}", "Wake checks that found the reader awake and made no system call.", static r => ChannelReading.Clamp(r.Counters.WakeupsSuppressed));
        ChannelCounter("uintripc.channel.sleeps", "{sleep}", "Times the reader blocked in its doorbell.", static r => ChannelReading.Clamp(r.Counters.Sleeps));
        ChannelCounter("uintripc.channel.wakeups.seen", "{wakeup}", "Reader sleeps that ended by a wake-up (possibly spurious) rather than at their time limit.", static r => ChannelReading.Clamp(r.Counters.WakeupsSeen));
        ChannelCounter("uintripc.channel.timeouts", "{timeout}", "Reader sleeps that ended at their time limit rather than by a wake-up.", static r => ChannelReading.Clamp(r.Counters.Timeouts));
        meter.CreateObservableGauge("uintripc.channel.ring.utilization", () => Collect<double>(static r => r.Utilization), "1", "The share of the ring in use, 0 to 1 (elements, or bytes for message channels).");
        meter.CreateObservableCounter("uintripc.errors", ObserveErrors, "{error}", "Errors raised in this process: peers gone, corrupted rings, lost RPC sessions (tag error.type).");
        meter.CreateObservableCounter("uintripc.ring.producers.unregistered", static () => ProducerTableCounts.Unregistered, "{thread}",
            "Producer threads that found an MPSC ring's producer table full of live producers: that ring no longer skips a dead producer's claim by itself (use fewer producer threads per ring object, or one ring object per thread).");
        CreateRpcInstruments();
    }

    internal Meter Meter { get; }

    /// <summary>The process's meter for <paramref name="factory"/>, or the shared one for null.</summary>
    internal static UintrIpcMeter For(IMeterFactory? factory)
        => factory is null ? s_shared.Value : s_byFactory.GetValue(factory, static f => new UintrIpcMeter(f.Create(Options())));

    /// <summary>Reports <paramref name="channel"/> until its objects are disposed or collected.</summary>
    internal void Add(ChannelCore channel)
    {
        var observation = new ChannelObservation(channel);
        lock (_lock)
        {
            _channels.RemoveAll(static c => !c.IsAlive);
            _channels.Add(observation);
        }
    }

    private static MeterOptions Options() => new(MeterName) { Version = s_version };

    private static IEnumerable<Measurement<long>> ObserveErrors() =>
    [
        new(ErrorCounts.PeerGone, new KeyValuePair<string, object?>(ErrorTypeTag, typeof(PeerGoneException).FullName)),
        new(ErrorCounts.RingCorrupted, new KeyValuePair<string, object?>(ErrorTypeTag, typeof(RingCorruptedException).FullName)),
        new(ErrorCounts.RpcConnectionLost, new KeyValuePair<string, object?>(ErrorTypeTag, typeof(Rpc.RpcConnectionLostException).FullName)),
    ];

    private void ChannelCounter(string name, string unit, string description, Func<ChannelReading, long?> select)
        => Meter.CreateObservableCounter(name, () => Collect<long>(select), unit, description);

    /// <summary>
    /// One measurement per live channel; a channel this process opened twice (same region epoch)
    /// counts once, since every value is the channel's, not the object's.
    /// </summary>
    private List<Measurement<T>> Collect<T>(Func<ChannelReading, T?> select)
        where T : struct
    {
        var measurements = new List<Measurement<T>>();
        var seen = new HashSet<ulong>();
        lock (_lock)
        {
            for (int i = _channels.Count - 1; i >= 0; i--)
            {
                if (!_channels[i].TryRead(out ChannelReading reading))
                {
                    _channels.RemoveAt(i);
                }
                else if (seen.Add(_channels[i].Epoch) && select(reading) is T value)
                {
                    measurements.Add(new Measurement<T>(value, _channels[i].Tags));
                }
            }
        }

        return measurements;
    }
}
