namespace UintrIpc.Tests.Infrastructure;

/// <summary>
/// Tests that start child processes or measure CPU time run one at a time: on a 2-core
/// machine parallel children would starve each other and make timeouts meaningless.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class CrossProcessCollection
{
    /// <summary>The collection name for [Collection(...)].</summary>
    public const string Name = "CrossProcess";
}
