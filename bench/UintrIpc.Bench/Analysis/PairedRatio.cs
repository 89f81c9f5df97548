using UintrIpc.Bench.Results;

namespace UintrIpc.Bench.Analysis;

/// <summary>One repetition of a .NET test and the C run made next to it: the ratio of their headlines.</summary>
/// <param name="Repetition">1-based.</param>
/// <param name="Net">The .NET run.</param>
/// <param name="Reference">The C run of the same repetition.</param>
/// <param name="Ratio">Latency: .NET p50 / C p50 (below 1 is faster); throughput: .NET rate / C rate (above 1 is faster).</param>
internal sealed record PairedRatio(int Repetition, BenchResult Net, BenchResult Reference, double Ratio);
