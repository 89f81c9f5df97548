namespace UintrIpc;

/// <summary>
/// The metrics UintrIpc reports through <see cref="System.Diagnostics.Metrics"/>: one
/// <see cref="System.Diagnostics.Metrics.Meter"/> named <see cref="MeterName"/>, with observable
/// instruments for every channel this process has open (messages and bytes sent and received,
/// wake-ups sent and suppressed, sleeps, timeouts, ring utilization) and for errors. See
/// docs/metrics.md for the instruments, their units and tags.
/// </summary>
/// <remarks>
/// <para>Nothing is measured on the data path: the channel instruments read, when a listener
/// collects, the positions and counters the rings and the wake-up protocol already keep in
/// shared memory. Without a listener they cost nothing.</para>
/// <para>Channels report to a meter shared by the process unless their
/// <see cref="Channels.ChannelWaitOptions.MeterFactory"/> is set (for example to the
/// <see cref="System.Diagnostics.Metrics.IMeterFactory"/> of a dependency-injection container):
/// then to the meter that factory creates under the same name. Either way, listen with
/// <c>dotnet-counters monitor --counters UintrIpc</c> or an OpenTelemetry
/// <c>AddMeter(UintrIpcMetrics.MeterName)</c>.</para>
/// </remarks>
public static class UintrIpcMetrics
{
    /// <summary>The meter's name, "UintrIpc".</summary>
    public const string MeterName = "UintrIpc";
}
