using System.Globalization;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using UintrIpc.Bootstrap;
using UintrIpc.Memory;
using UintrIpc.Rpc;
using UintrIpc.Tests.Infrastructure;
using UintrIpc.Tests.Layout;

namespace UintrIpc.Tests.Rpc;

/// <summary>
/// interop/include/uintripc_rpc.h (the specification a C client is written from) agrees with
/// the C# side: test/native/rpc_layout_dump.c is compiled against the header and every value
/// it prints is compared with its C# counterpart; every public constant of RpcLayout must have
/// one, and nothing printed may go unchecked.
/// </summary>
[Collection(CrossProcessCollection.Name)]
public sealed class RpcLayoutTests : IDisposable
{
    private readonly DirectoryInfo _temp = Directory.CreateTempSubdirectory("uintripc-rpc-layout-");

    private static readonly (string CName, string CSharp, long Value)[] s_table =
    [
        E("UIPC_RPC_REGION_KIND", RpcLayout.RegionKind),
        E("UIPC_RPC_MAGIC", RpcLayout.Magic),
        E("UIPC_RPC_VERSION", RpcLayout.Version),
        E("UIPC_RPC_PART_CONTROL", RpcLayout.ControlPartKind),
        E("UIPC_RPC_TAG_CONTROL", RpcLayout.ControlTag),
        E("UIPC_RPC_TAG_REQUESTS", RpcLayout.RequestsTag),
        E("UIPC_RPC_TAG_RESPONSES", RpcLayout.ResponsesTag),
        E("UIPC_RPC_TAG_ARENA", RpcLayout.ArenaTag),
        E("UIPC_RPC_TAG_SERVER_WAIT", RpcLayout.ServerWaitTag),
        E("UIPC_RPC_TAG_CLIENT_WAIT", RpcLayout.ClientWaitTag),
        E("UIPC_RPC_MIN_CALLS", RpcLayout.MinCalls),
        E("UIPC_RPC_MAX_CALLS", RpcLayout.MaxCalls),
        E("UIPC_RPC_MAX_ARENA", RpcLayout.MaxArena),
        E("UIPC_RPC_ARENA_ALIGNMENT", RpcLayout.ArenaAlignment),
        E("UIPC_RPC_ARGS", RpcLayout.ArgumentCount),
        E("UIPC_RPC_DOORBELL_NONE", (long)DoorbellKind.None),
        E("UIPC_RPC_DOORBELL_FUTEX", (long)DoorbellKind.Futex),
        E("UIPC_RPC_DOORBELL_EVENTFD", (long)DoorbellKind.EventFd),
        E("UIPC_RPC_SERVER_RUNNING", RpcLayout.ServerRunning),
        E("UIPC_RPC_SERVER_STOPPED", RpcLayout.ServerStopped),
        E("UIPC_RPC_ID(5, 7)", (long)RpcLayout.MakeId(5, 7)),
        E("UIPC_RPC_ID_SLOT(UIPC_RPC_ID(5, 7))", RpcLayout.SlotOf(RpcLayout.MakeId(5, 7))),
        E("UIPC_RPC_ID_GENERATION(UIPC_RPC_ID(5, 7))", RpcLayout.GenerationOf(RpcLayout.MakeId(5, 7))),

        E("sizeof(uipc_rpc_control)", RpcLayout.ControlSize),
        E("uipc_rpc_control.magic", RpcLayout.ControlMagicOffset),
        E("uipc_rpc_control.version", RpcLayout.ControlVersionOffset),
        E("uipc_rpc_control.doorbell_kind", RpcLayout.ControlDoorbellOffset),
        E("uipc_rpc_control.max_calls", RpcLayout.ControlMaxCallsOffset),
        E("uipc_rpc_control.arena_length", RpcLayout.ControlArenaLengthOffset),
        E("uipc_rpc_control.server_epoch", RpcLayout.ControlServerEpochOffset),
        E("uipc_rpc_control.session_id", RpcLayout.ControlSessionIdOffset),
        E("uipc_rpc_control.server_pid", RpcLayout.ControlServerPidOffset),
        E("uipc_rpc_control.client_pid", RpcLayout.ControlClientPidOffset),
        E("uipc_rpc_control.server_state", RpcLayout.ControlServerStateOffset),
        E("uipc_rpc_control.responses_sent", RpcLayout.ControlResponsesSentOffset),

        E("sizeof(uipc_rpc_request)", RpcLayout.RequestSize),
        E("uipc_rpc_request.id", RpcLayout.RequestIdOffset),
        E("uipc_rpc_request.opcode", RpcLayout.RequestOpcodeOffset),
        E("uipc_rpc_request.data_offset", RpcLayout.RequestDataOffsetOffset),
        E("uipc_rpc_request.in_length", RpcLayout.RequestInLengthOffset),
        E("uipc_rpc_request.out_capacity", RpcLayout.RequestOutCapacityOffset),
        E("uipc_rpc_request.args", RpcLayout.RequestArgsOffset),
        E("sizeof(uipc_rpc_response)", RpcLayout.ResponseSize),
        E("uipc_rpc_response.id", RpcLayout.ResponseIdOffset),
        E("uipc_rpc_response.result", RpcLayout.ResponseResultOffset),
        E("uipc_rpc_response.out_length", RpcLayout.ResponseOutLengthOffset),
        E("uipc_rpc_response.reserved", RpcLayout.ResponseOutLengthOffset + 4),

        E("UIPC_BOOTSTRAP_MAGIC", BootstrapFrame.Magic),
        E("UIPC_BOOTSTRAP_VERSION", BootstrapFrame.Version),
        E("UIPC_BOOTSTRAP_MAX_PAYLOAD", BootstrapMessage.MaxPayloadLength),
        E("UIPC_BOOTSTRAP_MAX_FDS", BootstrapMessage.MaxFds),
        E("UIPC_BOOTSTRAP_MAX_REASON", BootstrapFrame.MaxReasonBytes),
        E("UIPC_BOOTSTRAP_ACCEPT", (long)BootstrapFrameType.Accept),
        E("UIPC_BOOTSTRAP_REFUSED", (long)BootstrapFrameType.Refused),
        E("UIPC_BOOTSTRAP_DATA", (long)BootstrapFrameType.Data),
        E("sizeof(uipc_bootstrap_frame)", BootstrapFrame.HeaderSize),
        E("uipc_bootstrap_frame.magic", 0),
        E("uipc_bootstrap_frame.version", 4),
        E("uipc_bootstrap_frame.type", 6),
        E("uipc_bootstrap_frame.payload_length", 8),
        E("uipc_bootstrap_frame.fd_count", 12),

        E("sizeof(uipc_rpc_hello)", RpcLayout.HelloSize),
        E("uipc_rpc_hello.magic", 0),
        E("uipc_rpc_hello.version", 4),
        E("uipc_rpc_hello.doorbell_kind", RpcLayout.HandshakeDoorbellOffset),
        E("uipc_rpc_hello.max_calls", RpcLayout.HelloMaxCallsOffset),
        E("uipc_rpc_hello.arena_length", RpcLayout.HelloArenaLengthOffset),
        E("sizeof(uipc_rpc_welcome)", RpcLayout.WelcomeSize),
        E("uipc_rpc_welcome.magic", 0),
        E("uipc_rpc_welcome.version", 4),
        E("uipc_rpc_welcome.doorbell_kind", RpcLayout.HandshakeDoorbellOffset),
        E("uipc_rpc_welcome.status", RpcLayout.WelcomeStatusOffset),
        E("uipc_rpc_welcome.max_calls", RpcLayout.WelcomeMaxCallsOffset),
        E("uipc_rpc_welcome.arena_length", RpcLayout.WelcomeArenaLengthOffset),
        E("uipc_rpc_welcome.region_epoch", RpcLayout.WelcomeRegionEpochOffset),
        E("uipc_rpc_welcome.server_epoch", RpcLayout.WelcomeServerEpochOffset),
        E("uipc_rpc_welcome.session_id", RpcLayout.WelcomeSessionIdOffset),
    ];

    public void Dispose() => _temp.Delete(recursive: true);

    [Fact]
    public void The_compiled_header_agrees_with_the_CSharp_side()
    {
        string? gcc = ExternalProgram.FindOnPath("gcc");
        Assert.SkipWhen(gcc is null, "gcc is not installed (apt-get install gcc); the compiled-layout check needs a C compiler.");
        string exe = Path.Combine(_temp.FullName, "rpc_layout_dump");
        var compile = ExternalProgram.Run(gcc!, "-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic", "-I", LayoutHeader.NativeDirectory,
            "-o", exe, Path.Combine(LayoutHeader.NativeDirectory, "rpc_layout_dump.c"));
        Assert.True(compile.ExitCode == 0, $"gcc failed: {compile}");
        var run = ExternalProgram.Run(exe);
        Assert.True(run.ExitCode == 0, $"rpc_layout_dump failed: {run}");

        var values = new Dictionary<string, long>();
        foreach (string line in run.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            int last = line.LastIndexOf(' ');
            Assert.StartsWith("value ", line);
            values.Add(line[6..last], long.Parse(line[(last + 1)..], CultureInfo.InvariantCulture));
        }

        var wrong = new List<string>();
        foreach (var (cName, csharp, value) in s_table)
        {
            if (!values.TryGetValue(cName, out long c))
            {
                wrong.Add($"{cName}: not printed by rpc_layout_dump.c");
            }
            else if (c != value)
            {
                wrong.Add($"{cName} = {c} in C, but {csharp} = {value}");
            }
        }

        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
        Assert.Empty(values.Keys.Except(s_table.Select(e => e.CName)));
    }

    [Fact]
    public void Every_RpcLayout_constant_has_a_C_counterpart()
    {
        var constants = typeof(RpcLayout).GetFields(BindingFlags.Public | BindingFlags.Static).Where(f => f.IsLiteral).Select(f => $"RpcLayout.{f.Name}").ToList();
        Assert.True(constants.Count > 40, "reflection found too few constants; did RpcLayout move?");
        var missing = constants.Where(c => !s_table.Any(e => Regex.IsMatch(e.CSharp, $@"\b{Regex.Escape(c)}\b"))).ToList();
        Assert.True(missing.Count == 0, "RpcLayout constants without a C counterpart: " + string.Join(", ", missing));
    }

    [Fact]
    public unsafe void The_wire_structs_have_the_header_layout()
    {
        Assert.Equal(RpcLayout.RequestSize, sizeof(RpcWireRequest));
        Assert.Equal(RpcLayout.ResponseSize, sizeof(RpcWireResponse));
        Assert.Equal(RpcLayout.ArgumentCount * sizeof(long), sizeof(RpcArgs));
        var request = new RpcWireRequest { Args = new RpcArgs(1, 2, 3, 4) };
        Assert.Equal(4, *(long*)((byte*)&request + RpcLayout.RequestArgsOffset + 24));
        Assert.Equal((uint)PartKind.User, RpcLayout.ControlPartKind);
    }

    private static (string, string, long) E(string cName, long value, [CallerArgumentExpression(nameof(value))] string csharp = "") => (cName, csharp, value);
}
