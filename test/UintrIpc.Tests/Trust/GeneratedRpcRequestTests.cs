using System.Globalization;
using CsCheck;
using Tmds.Linux;
using UintrIpc.Rpc;
using UintrIpc.TestPeer.Commands;
using UintrIpc.Tests.Bootstrap;
using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.Trust;

/// <summary>
/// A hostile RPC client, generated: raw requests after the handshake (ids, opcodes, data
/// offsets, input lengths, output capacities and arguments at their boundaries) against the
/// test server in its own process. Every request gets exactly one answer, the one an
/// independent reading of uintripc_rpc.h sections 2-4 and RpcTestOps' docs predicts, and no
/// arena byte outside what the handler may write changes. Afterwards the server serves an
/// honest client, and the hostile session leaves no descriptor in the server.
/// </summary>
[Collection(CrossProcessCollection.Name)]
public sealed class GeneratedRpcRequestTests(ITestOutputHelper output)
{
    private const int ArenaLength = 4096;
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(10);

    private static readonly uint[] s_opcodes = [RpcTestOps.Add, RpcTestOps.Echo, RpcTestOps.Return, RpcTestOps.Sleep, RpcTestOps.Throw, RpcTestOps.Fill, 0, 7, 64, 0xDEAD, uint.MaxValue];
    private static readonly uint[] s_offsets = [0, 64, ArenaLength - 64, ArenaLength - 1, ArenaLength, ArenaLength + 1, 1u << 30, 0x7FFFFFFF, 0x80000000, uint.MaxValue];
    private static readonly uint[] s_lengths = [0, 1, 63, 64, 65, ArenaLength - 1, ArenaLength, ArenaLength + 1, 0x7FFFFFFF, 0x80000000, uint.MaxValue];
    private static readonly long[] s_args = [0, 1, -1, 5, 0x55, 64, ArenaLength + 1, int.MaxValue, (long)int.MaxValue + 1, uint.MaxValue, -(long)LibC.EIO, long.MinValue, long.MaxValue];

    private static readonly Gen<uint> s_offset = Gen.Frequency((3, Gen.Int[0, s_offsets.Length - 1].Select(i => s_offsets[i])), (2, Gen.UInt[0, ArenaLength]), (1, Gen.UInt));
    private static readonly Gen<uint> s_length = Gen.Frequency((3, Gen.Int[0, s_lengths.Length - 1].Select(i => s_lengths[i])), (3, Gen.UInt[0, 256]), (1, Gen.UInt));
    private static readonly Gen<long> s_arg = Gen.Frequency((3, Gen.Int[0, s_args.Length - 1].Select(i => s_args[i])), (1, Gen.Long[-300, 300]), (1, Gen.Long));

    internal static readonly Gen<RpcWireRequest> s_request = Gen.Select(
        Gen.ULong, Gen.Int[0, s_opcodes.Length - 1].Select(i => s_opcodes[i]), s_offset, s_length, s_length, s_arg, s_arg,
        (id, opcode, offset, inLength, outCapacity, a0, a1) => new RpcWireRequest
        {
            Id = id,
            Opcode = opcode,
            DataOffset = offset,
            InLength = inLength,
            OutCapacity = outCapacity,
            // Sleep's A0 is milliseconds: a few, so that the run stays short.
            Args = new RpcArgs(opcode == RpcTestOps.Sleep ? a0 & 3 : a0, a1, a0 ^ a1, -a1),
        });

    private static string Print(RpcWireRequest r)
        => $"id {r.Id:x16} opcode {r.Opcode} offset {r.DataOffset} in {r.InLength} out {r.OutCapacity} args ({r.Args.A0}, {r.Args.A1}, {r.Args.A2}, {r.Args.A3})";

    /// <summary>The answer the spec predicts: (result, out_length, bytes the server may write at the block's start and their value or -1 for the input).</summary>
    private static (long Result, uint OutLength, int Written, int Fill) Expected(in RpcWireRequest r)
    {
        if ((ulong)r.DataOffset + Math.Max(r.InLength, r.OutCapacity) > ArenaLength)
        {
            return (-LibC.EFAULT, 0, 0, 0); // section 4: never read
        }

        switch (r.Opcode)
        {
            case RpcTestOps.Add: return (unchecked(r.Args.A0 + r.Args.A1), 0, 0, 0);
            case RpcTestOps.Return: return (r.Args.A0, 0, 0, 0);
            case RpcTestOps.Sleep: return (r.Args.A1, 0, 0, 0);
            case RpcTestOps.Throw: return ((int)r.Args.A0 > 0 ? -(int)r.Args.A0 : -LibC.EIO, 0, 0, 0); // a handler failure without an errno is -EIO
            case RpcTestOps.Echo:
                // The input, copied in place; more input than output room fails the handler (-EIO).
                return r.InLength <= r.OutCapacity ? (r.InLength, r.InLength, 0, 0) : (-LibC.EIO, 0, 0, 0);
            case RpcTestOps.Fill:
                int n = (int)Math.Clamp(r.Args.A1, 0, r.OutCapacity);
                return (n, (uint)n, n, (byte)r.Args.A0);
            default:
                return (-LibC.ENOSYS, 0, 0, 0); // no handler
        }
    }

    [Fact]
    public void Generated_requests_get_the_answer_the_spec_predicts_and_the_server_serves_on_with_nothing_leaked()
    {
        string endpoint = SocketNames.NewAbstract("genreq");
        using var server = PeerProcess.Start(output, "rpc-server", endpoint);
        server.WaitForOutput("listening");
        using (var warmUp = RpcClient.Connect(endpoint))
        {
            Assert.Equal(3, warmUp.Call(RpcTestOps.Add, new RpcArgs(1, 2), s_timeout).Value);
            Assert.Equal(4, warmUp.Call(RpcTestOps.Sleep, new RpcArgs(0, 4), s_timeout).Value); // starts the worker pool
        }

        server.WaitForOutput("closed 1:");
        var before = Baseline(server.Pid);
        byte[] pattern = new byte[ArenaLength];
        new Random(7).NextBytes(pattern);
        int answered = 0;
        using (var hostile = new RawRpcClient(endpoint, ArenaLength))
        {
            Assert.Equal(ArenaLength, hostile.Region.ArenaLength);
            GeneratedCases.Check(s_request, seed: 0x5EED_12E0, count: 1500, r =>
            {
                pattern.CopyTo(hostile.Arena);
                var answer = hostile.Call(r, s_timeout);
                Assert.True(answer.HasValue, "no answer within 10 s");
                var (result, outLength, written, fill) = Expected(r);
                Assert.Equal((r.Id, result, outLength, 0u), (answer.Value.Id, answer.Value.Result, answer.Value.OutLength, answer.Value.Reserved));

                // Only the handler's output changed: the block's first `written` bytes, nothing else.
                Span<byte> arena = hostile.Arena;
                for (int i = 0; i < ArenaLength; i++)
                {
                    int at = i - (int)r.DataOffset;
                    byte want = at >= 0 && at < written ? (byte)fill : pattern[i];
                    Assert.True(arena[i] == want, $"arena byte {i} is {arena[i]}, expected {want}");
                }

                answered++;
            }, Print);
        }

        Assert.Equal(1500, answered);
        server.WaitForOutput("closed 2:");
        using (var honest = RpcClient.Connect(endpoint))
        {
            Assert.Equal(42, honest.Call(RpcTestOps.Add, new RpcArgs(40, 2), s_timeout).Value);
        }

        server.WaitForOutput("closed 3:");
        Assert.Equal("", AddedWhenSettled(server.Pid, before));
        Assert.DoesNotContain("corrupted", server.StandardOutput, StringComparison.Ordinal);
    }

    /// <summary>
    /// The process's descriptors, counted per target: numbers are not compared, because the
    /// accept loop's per-wait cancel eventfd gets a new number each time it waits.
    /// </summary>
    internal static Dictionary<string, int> Descriptors(int pid)
        => ProcessDescriptors.List(pid.ToString(CultureInfo.InvariantCulture)).CountBy(d => d.Target).ToDictionary();

    /// <summary>
    /// An idle server's descriptors, per target the most seen in snapshots over 1.5 s (longer than
    /// its accept loop's 1 s wait): one snapshot can fall between two of those waits, when the
    /// per-wait cancel eventfd is closed (1 in 11 000 snapshots of an idle rpc-server), and such a
    /// baseline reported "anon_inode:[eventfd] x2 (was 1)" as a leak (GeneratedForwardRequestTests,
    /// UINTRIPC_GENERATED_SEED=440833867, load 20). Take it after the earlier sessions have ended,
    /// so that only what comes and goes in an idle server is counted at its most.
    /// </summary>
    internal static Dictionary<string, int> Baseline(int pid)
    {
        var most = Descriptors(pid);
        long end = Environment.TickCount64 + 1500;
        while (Environment.TickCount64 < end)
        {
            Thread.Sleep(20);
            foreach (var (target, count) in Descriptors(pid))
            {
                most[target] = Math.Max(most.GetValueOrDefault(target), count);
            }
        }

        return most;
    }

    /// <summary>
    /// <see cref="Added"/> once it settled (<see cref="DescriptorSettle"/>): a finished session's
    /// last close or a per-wait descriptor being replaced passes; a real leak stays. Both generated
    /// request tests' check.
    /// </summary>
    internal static string AddedWhenSettled(int pid, Dictionary<string, int> before)
        => DescriptorSettle.AddedInOtherProcess(() => Added(pid, before));

    /// <summary>The targets <paramref name="pid"/> holds more descriptors of than in <paramref name="before"/>, with the numbers; empty when none.</summary>
    internal static string Added(int pid, Dictionary<string, int> before)
        => string.Join(", ", Descriptors(pid).Where(d => d.Value > before.GetValueOrDefault(d.Key)).Select(d => $"{d.Key} x{d.Value} (was {before.GetValueOrDefault(d.Key)})"));
}
