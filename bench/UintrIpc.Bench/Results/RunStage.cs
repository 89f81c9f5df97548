namespace UintrIpc.Bench.Results;

/// <summary>Which stage of a run a result belongs to.</summary>
internal enum RunStage
{
    /// <summary>The tests as selected, each repetition next to its C baseline (not written to results.json: the default).</summary>
    Main,

    /// <summary>
    /// The sweep's pick stage: per ring kind and size, each side's (.NET and C) three fastest
    /// settings of the sweep, each run once per round (--pick-rounds), so that the best setting is
    /// picked by a median of runs instead of by one run that may have hit a fast mode of the host.
    /// </summary>
    Pick,

    /// <summary>
    /// The sweep's confirmation stage: the best .NET setting of a ring kind and size (as picked), re-run with
    /// the C ring of the same setting as adjacent alternating pairs (--confirm-pairs), so that the
    /// "at least equal to C" comparison rests on a median of pairs instead of one pair; where the
    /// pairs' ratios lie on both sides of 1, one pair fewer again.
    /// </summary>
    Confirmation,
}
