using UintrIpc.Bench.Processes;
using UintrIpc.Bench.Workloads.Latency;

namespace UintrIpc.Bench.Workloads;

/// <summary>The roles a child process can play (<c>--child ROLE</c>), each the other half of a case.</summary>
internal static class ChildRoles
{
    private static readonly Dictionary<string, Action<ChildArgs, ChildChannel, Deadline>> s_roles = new(StringComparer.Ordinal)
    {
        ["pingpong-line"] = BaselinePingPong.CacheLineChild,
        ["pingpong-pipe"] = BaselinePingPong.PipeChild,
        ["pingpong-socket"] = BaselinePingPong.SocketChild,
        ["pingpong-ring"] = RingPingPong.Child,
        ["pingpong-duplex-channel"] = DuplexChannelPingPong.Child,
        ["produce"] = Throughput.ProducerChild.Run,
        ["consume"] = Throughput.ConsumerChild.Run,
        ["fwd-server"] = Rpc.ForwardServerRole.Run,
    };

    public static void Run(ChildArgs args, ChildChannel channel, Deadline deadline)
    {
        if (!s_roles.TryGetValue(args.Role, out var role))
        {
            throw new ArgumentException($"Unknown child role '{args.Role}'; known: {string.Join(", ", s_roles.Keys)}.");
        }

        if (args.GetOrNull("cpu") is not null)
        {
            Affinity.PinProcess(args.GetInt("cpu"));
        }

        role(args, channel, deadline);
    }
}
