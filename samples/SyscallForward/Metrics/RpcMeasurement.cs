namespace SyscallForward.Metrics;

/// <summary>One value an RPC instrument of the "UintrIpc" meter reported, with its tags.</summary>
/// <param name="Instrument">The instrument's name (docs/metrics.md, "RPC instruments").</param>
/// <param name="Value">The counter's value since the server or session started.</param>
/// <param name="Tags">Its tags: the endpoint, and the session id, side or error type where the instrument has them.</param>
internal readonly record struct RpcMeasurement(string Instrument, long Value, IReadOnlyDictionary<string, object?> Tags)
{
    /// <summary>Whether it comes from <paramref name="instrument"/> and carries tag <paramref name="key"/> with <paramref name="value"/>.</summary>
    public bool Is(string instrument, string key, object value) => Instrument == instrument && Equals(Tags.GetValueOrDefault(key), value);
}
