namespace UintrIpc.TestPeer;

/// <summary>Marks a static method `int M(string[] args)` as a peer command.</summary>
[AttributeUsage(AttributeTargets.Method)]
internal sealed class PeerCommandAttribute(string name) : Attribute
{
    /// <summary>The command name given on the command line.</summary>
    public string Name { get; } = name;
}
