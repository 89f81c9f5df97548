using UintrIpc.Bench.Analysis;

namespace UintrIpc.Bench.Results;

/// <summary>One of the project's speed targets, evaluated on this run.</summary>
/// <param name="Target">What is required, in words.</param>
/// <param name="Subject">The .NET test measured.</param>
/// <param name="Reference">The C test it is paired with.</param>
/// <param name="Ratio">Median and range of the per-pair ratios subject / reference (latency: p50s; throughput: rates).</param>
/// <param name="Limit">The limit the median must meet.</param>
/// <param name="Met">Null when it could not be evaluated (a result is missing).</param>
/// <param name="Explanation">The data behind the verdict, generated from the runs.</param>
internal sealed record TargetVerdict(string Target, string Subject, string Reference, Spread? Ratio, string Limit, bool? Met, string Explanation);
