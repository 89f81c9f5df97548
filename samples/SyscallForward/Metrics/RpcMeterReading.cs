using System.Diagnostics.Metrics;

namespace SyscallForward.Metrics;

/// <summary>
/// Reads this process's RPC counters the way an application does: a MeterListener on the meter
/// named "UintrIpc" (docs/metrics.md). The instruments are observable, so a reading makes them
/// report, on the calling thread, what the servers and clients count anyway; a server or client
/// is reported until it is disposed.
/// </summary>
internal static class RpcMeterReading
{
    /// <summary>Tag of every RPC measurement: the bootstrap endpoint.</summary>
    public const string EndpointTag = "uintripc.rpc.endpoint";

    /// <summary>Tag of session measurements: the session id (a long).</summary>
    public const string SessionTag = "uintripc.rpc.session.id";

    /// <summary>Tag of session wake-up measurements: "server" or "client".</summary>
    public const string SideTag = "uintripc.rpc.side";

    /// <summary>Tag of error measurements: what went wrong.</summary>
    public const string ErrorTypeTag = "error.type";

    /// <summary>Every RPC instrument's values now.</summary>
    public static List<RpcMeasurement> Take()
    {
        var taken = new List<RpcMeasurement>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = static (instrument, l) =>
        {
            if (instrument.Meter.Name == "UintrIpc" && instrument.Name.StartsWith("uintripc.rpc.", StringComparison.Ordinal))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            var byKey = new Dictionary<string, object?>(StringComparer.Ordinal);
            foreach (var tag in tags)
            {
                byKey[tag.Key] = tag.Value;
            }

            taken.Add(new RpcMeasurement(instrument.Name, value, byKey));
        });
        listener.Start();
        listener.RecordObservableInstruments();
        return taken;
    }

    /// <summary>The sum of <paramref name="instrument"/>'s values tagged <paramref name="key"/> = <paramref name="value"/> in <paramref name="reading"/>.</summary>
    public static long Sum(this IEnumerable<RpcMeasurement> reading, string instrument, string key, object value)
        => reading.Where(m => m.Is(instrument, key, value)).Sum(m => m.Value);
}
