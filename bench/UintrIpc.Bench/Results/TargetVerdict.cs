namespace UintrIpc.Bench.Results;

/// <summary>One of the project's speed targets, evaluated on this run.</summary>
/// <param name="Target">What is required, in words.</param>
/// <param name="Subject">The .NET result measured.</param>
/// <param name="Reference">What it is compared with.</param>
/// <param name="Ratio">subject / reference (latency: p50s; throughput: rates).</param>
/// <param name="Limit">The limit the ratio must meet.</param>
/// <param name="Met">Null when it could not be evaluated (a result is missing).</param>
/// <param name="Explanation">Why it was missed (or what limits it), from the data.</param>
internal sealed record TargetVerdict(string Target, string Subject, string Reference, double? Ratio, string Limit, bool? Met, string Explanation);
