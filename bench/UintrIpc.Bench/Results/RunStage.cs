namespace UintrIpc.Bench.Results;

/// <summary>Which stage of a run a result belongs to.</summary>
internal enum RunStage
{
    /// <summary>The tests as selected, each repetition next to its C baseline (not written to results.json: the default).</summary>
    Main,

    /// <summary>
    /// The sweep's confirmation stage: the best .NET setting of a ring kind and size, re-run with
    /// the C ring of the same setting as adjacent alternating pairs (--confirm-pairs), so that the
    /// "at least equal to C" comparison rests on a median of pairs instead of one pair.
    /// </summary>
    Confirmation,
}
