using System.Diagnostics;
using System.Globalization;
using UintrIpc.Bootstrap;
using UintrIpc.Rpc;
using UintrIpc.Signaling;

namespace UintrIpc.TestPeer.Commands;

/// <summary>
/// The generated hostile RPC server (RawRpcServer) and the client process that faces it with
/// the library's RpcClient (test/UintrIpc.Tests/Trust/GeneratedRpcServerTests.cs).
/// </summary>
internal static class HostileRpcServerCommands
{
    private static readonly TimeSpan s_callTimeout = TimeSpan.FromMilliseconds(150);
    private static readonly TimeSpan s_hang = TimeSpan.FromSeconds(20);

    /// <summary>
    /// An honest case's connect: a server process started just before (after an Exit case) took
    /// over 10 s from accept to welcome at load 24-38 (seeds 470163511 case 249, 994593310 case 261).
    /// </summary>
    private static readonly TimeSpan s_honestConnect = TimeSpan.FromSeconds(30);

    /// <summary>The watchdog's limit: above every bound of a watched step (an honest connect, a concurrent call's 20 s).</summary>
    private static readonly TimeSpan s_watchdog = TimeSpan.FromSeconds(40);

    /// <summary>A server process's start, to listening: over 20 s at load 50 (seed 994593310 case 302); under the test's 60 s quiet bound.</summary>
    private static readonly TimeSpan s_start = TimeSpan.FromSeconds(45);

    /// <summary>The server's wait for the client's next session: longer than the client's own steps between two (a descriptor check, a watched connect).</summary>
    private static readonly TimeSpan s_betweenCases = TimeSpan.FromSeconds(60);

    /// <summary>
    /// hostile-rpc-server &lt;endpoint&gt; &lt;seed&gt; &lt;first case&gt; &lt;case count&gt; &lt;target pid&gt;...:
    /// listens, prints "listening", then serves connection i with case first+i of the seed
    /// (each session until the client hangs up); an Exit case ends the process. The target pids
    /// (a sentinel, the test) go into every pid field it forges.
    /// </summary>
    [PeerCommand("hostile-rpc-server")]
    public static int HostileServer(string[] args)
    {
        ulong seed = ulong.Parse(args[1], CultureInfo.InvariantCulture);
        int first = int.Parse(args[2], CultureInfo.InvariantCulture);
        int count = int.Parse(args[3], CultureInfo.InvariantCulture);
        int[] targets = [.. args[4..].Select(a => int.Parse(a, CultureInfo.InvariantCulture))];
        using var listener = BootstrapServer.Listen(args[0]);
        Console.WriteLine("listening");
        for (int i = first; i < count; i++)
        {
            BootstrapConnection connection;
            try
            {
                connection = listener.Accept(s_betweenCases);
            }
            catch (TimeoutException)
            {
                Console.WriteLine($"server: no client for case {i} within {s_betweenCases}");
                return 4;
            }

            HostileServerCase c = GeneratedCases.Case(HostileServerCase.s_case, seed, i);
            Console.WriteLine($"server: case {i}: {c}");
            new RawRpcServer(c, targets).Serve(connection);
        }

        return 0;
    }

    /// <summary>
    /// hostile-rpc-client &lt;endpoint&gt; &lt;seed&gt; &lt;case count&gt; &lt;honest endpoint&gt; &lt;target pid&gt;...:
    /// the client process. Runs the hostile server itself (again after an Exit case), and for each
    /// case connects with RpcClient and makes sync and async calls, with and without timeouts and
    /// cancellation, concurrently too. Property per case: every call ends within its bound with a
    /// result or a documented exception, no byte around the caller's buffer changes, the
    /// descriptors and memfd mappings return to their count after Dispose. Then an honest server
    /// serves the same library. Exit 0 when all held; 3 with "FAIL seed s case i: ..."; 5 on a hang.
    /// </summary>
    [PeerCommand("hostile-rpc-client")]
    public static int HostileClient(string[] args)
    {
        string endpoint = args[0];
        ulong seed = ulong.Parse(args[1], CultureInfo.InvariantCulture);
        int count = int.Parse(args[2], CultureInfo.InvariantCulture);
        string honest = args[3];
        string[] targets = args[4..];
        long progress = Environment.TickCount64;
        int current = -1;
        // The watchdog times the client's calls only: the harness's own steps (a server's start,
        // a kill, the descriptor check) have bounds of their own and pause it, so that at load 30-50
        // a slow process start after an Exit case is not reported as a call that hung (seed
        // 994593310 case 302, seed 806680428 case 0 at load 28-49: both pass at load 16).
        int watching = 1;
        var watchdog = new Thread(() =>
        {
            while (true)
            {
                Thread.Sleep(250);
                if (Volatile.Read(ref watching) != 0 && Environment.TickCount64 - Volatile.Read(ref progress) > s_watchdog.TotalMilliseconds)
                {
                    Console.WriteLine($"HANG seed {seed} case {Volatile.Read(ref current)}: no call ended for {s_watchdog.TotalSeconds} s");
                    Console.Out.Flush();
                    Environment.Exit(5);
                }
            }
        }) { IsBackground = true };
        watchdog.Start();
        void Progress() => Volatile.Write(ref progress, Environment.TickCount64);
        void Unwatched(Action step)
        {
            Volatile.Write(ref watching, 0);
            try
            {
                step();
            }
            finally
            {
                Progress();
                Volatile.Write(ref watching, 1);
            }
        }

        // Warm-up against the honest server: whatever the runtime and the library open lazily.
        CallHonest(honest);
        Process? server = null;
        var outcomes = new Dictionary<string, int>();
        try
        {
            for (int i = 0; i < count; i++)
            {
                Volatile.Write(ref current, i);
                if (server is null || server.HasExited)
                {
                    // Forgotten before the next start: a start that throws would otherwise leave the finally
                    // below a disposed Process, whose HasExited throws and hides why the start failed
                    // (UINTRIPC_FUZZ_SEED=699761741 case 12, load 16: "No process is associated with this object").
                    server?.Dispose();
                    server = null;
                    Process? started = null;
                    Unwatched(() => started = StartServer(endpoint, seed, i, count, targets));
                    server = started!;
                }

                HostileServerCase c = GeneratedCases.Case(HostileServerCase.s_case, seed, i);
                try
                {
                    string outcome = RunCase(endpoint, c, Progress, Unwatched);
                    outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;
                    Console.WriteLine($"case {i}: {c}: {outcome}");
                }
                catch (Exception e)
                {
                    Console.WriteLine($"FAIL seed {seed} case {i}: {c}: {e}");
                    return 3;
                }

                if (c.Kind == ServerHostility.Exit && !server.HasExited)
                {
                    // It exits at its step unless it saw the hang-up first; either way the next case gets a fresh server.
                    Process exiting = server;
                    Unwatched(() =>
                    {
                        exiting.Kill();
                        exiting.WaitForExit(10_000);
                    });
                }

                Progress();
            }

            Console.WriteLine($"outcomes: {string.Join(", ", outcomes.OrderBy(o => o.Key, StringComparer.Ordinal).Select(o => $"{o.Key} x{o.Value}"))}");
            CallHonest(honest);
            Console.WriteLine("honest server served");
            return 0;
        }
        finally
        {
            if (server is { HasExited: false })
            {
                server.Kill();
                server.WaitForExit(10_000);
            }

            server?.Dispose();
        }
    }

    private static Process StartServer(string endpoint, ulong seed, int first, int count, string[] targets)
    {
        // This program again (dotnet TestPeer.dll, or its apphost); output inherited, so no pipe descriptors here.
        string self = Environment.ProcessPath!;
        var info = new ProcessStartInfo(self) { UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            info.ArgumentList.Add(typeof(HostileRpcServerCommands).Assembly.Location);
        }

        foreach (string a in (string[])["hostile-rpc-server", endpoint, seed.ToString(CultureInfo.InvariantCulture), first.ToString(CultureInfo.InvariantCulture), count.ToString(CultureInfo.InvariantCulture), .. targets])
        {
            info.ArgumentList.Add(a);
        }

        var process = Process.Start(info)!;
        // Listening: a connect succeeds (bounded; the socket appears once it listens).
        long start = Environment.TickCount64;
        while (!Listening(endpoint))
        {
            if (process.HasExited || Environment.TickCount64 - start > s_start.TotalMilliseconds)
            {
                throw new InvalidOperationException($"the hostile server did not listen (exited {process.HasExited})");
            }

            Thread.Sleep(10);
        }

        return process;
    }

    /// <summary>Whether the abstract socket name is bound (/proc/net/unix lists it as @name).</summary>
    private static bool Listening(string endpoint)
        => File.ReadLines("/proc/net/unix").Any(l => l.EndsWith(" " + endpoint, StringComparison.Ordinal));

    private static void CallHonest(string endpoint)
    {
        using var client = RpcClient.Connect(endpoint, new RpcClientOptions { ConnectTimeout = TimeSpan.FromSeconds(10) });
        Check(client.Call(RpcTestOps.Add, new RpcArgs(40, 2), TimeSpan.FromSeconds(10)).Value == 42, "the honest server's Add");
        Check(client.CallAsync(RpcTestOps.Add, new RpcArgs(1, 2)).AsTask().Wait(TimeSpan.FromSeconds(10)), "the honest server's async Add");
    }

    private static void Check(bool condition, string what)
    {
        if (!condition)
        {
            throw new InvalidOperationException(what);
        }
    }

    /// <summary>One session against the hostile server; returns how it ended (for the summary), throws when the property broke.</summary>
    private static string RunCase(string endpoint, HostileServerCase c, Action progress, Action<Action> unwatched)
    {
        // An honest server's answers must come (its case checks them exactly), however loaded the machine: a bound, not a threshold.
        TimeSpan timeout = c.Kind == ServerHostility.Honest ? s_hang / 2 : s_callTimeout;
        var before = Descriptors();
        int maps = MemfdMaps();
        string outcome;
        RpcClient client;
        try
        {
            client = RpcClient.Connect(endpoint, new RpcClientOptions { Doorbell = c.Doorbell, MaxCalls = 4, ArenaLength = 4096, ConnectTimeout = c.Kind == ServerHostility.Honest ? s_honestConnect : TimeSpan.FromSeconds(10) });
            progress();
        }
        catch (Exception e) when (e is TimeoutException || e is UintrIpcException)
        {
            // Documented for Connect; nothing may stay open. An honest server's welcome is accepted.
            progress();
            Check(c.Kind != ServerHostility.Honest, $"connecting to the honest server failed: {e}");
            outcome = "connect: " + e.GetType().Name;
            unwatched(() => Settled(before, maps));
            return outcome;
        }

        if (c.Kind == ServerHostility.Welcome && c.Pick % 9 == 0 && (int)(uint)c.Value != 0)
        {
            // uintripc_rpc.h section 8: a status other than 0 is refused (> 0 is malformed, < 0 the server's -errno).
            client.Dispose();
            throw new InvalidOperationException($"a welcome with status {(int)(uint)c.Value} was accepted");
        }

        var pending = new List<(Task<RpcResult> Task, Buffer Out, long A0)>();
        var ends = new List<string>();
        try
        {
            for (int j = 0; j < 6; j++)
            {
                long a0 = 1000 + j;
                int capacity = 16 << (j % 3);
                var output = new Buffer(capacity);
                byte[] input = [.. Enumerable.Range(0, 8 * (j + 1)).Select(b => (byte)b)];
                var args = new RpcArgs(a0, capacity - j, 0x40 + j, 0);
                switch (j)
                {
                    case 0:
                    case 4:
                        ends.Add(Sync(() => client.Call(1, args, input, output.Inner, timeout), output, c, a0, capacity - j, 0x40 + j));
                        break;
                    case 1:
                        ends.Add(Sync(() => client.Call(2, new RpcArgs(a0, 0, 0, 0), timeout), null, c, a0, 0));
                        break;
                    case 2:
                        using (var cancel = new CancellationTokenSource(timeout))
                        {
                            ends.Add(Sync(() => Await(client.CallAsync(3, args, input, output.Memory, cancel.Token).AsTask()), output, c, a0, capacity - j, 0x40 + j, cancelled: true));
                        }

                        break;
                    case 3:
                        // No token: ends with an answer, or when the session is lost or the client disposed below.
                        Task<RpcResult> started;
                        try
                        {
                            started = client.CallAsync(4, args, input, output.Memory).AsTask();
                        }
                        catch (Exception e)
                        {
                            started = Task.FromException<RpcResult>(e); // judged with the others below
                        }

                        pending.Add((started, output, a0));
                        break;
                    default:
                        // Two threads at once, sync and async with a token, while the third waits.
                        var second = new Buffer(capacity);
                        using (var cancel = new CancellationTokenSource(timeout))
                        {
                            var other = Task.Run(() => Sync(() => client.Call(5, args, input, second.Inner, timeout), second, c, a0, capacity - j, 0x40 + j));
                            ends.Add(Sync(() => Await(client.CallAsync(6, args, input, output.Memory, cancel.Token).AsTask()), output, c, a0, capacity - j, 0x40 + j, cancelled: true));
                            Check(other.Wait(s_hang), "the concurrent call did not end");
                            ends.Add(other.Result);
                        }

                        break;
                }

                progress();
            }
        }
        finally
        {
            client.Dispose();
        }

        foreach (var (task, output, a0) in pending)
        {
            ends.Add(Sync(() => Await(task), output, c, a0, output.Inner.Length - 3, 0x43, disposed: true));
        }

        unwatched(() => Settled(before, maps));
        return string.Join(" ", ends.Distinct().Order(StringComparer.Ordinal));
    }

    private static RpcResult Await(Task<RpcResult> task)
    {
        try
        {
            task.Wait(s_hang);
        }
        catch (AggregateException)
        {
            // Its exception is rethrown unwrapped below.
        }

        return task.IsCompleted ? task.GetAwaiter().GetResult() : throw new InvalidOperationException($"an async call did not end within {s_hang.TotalSeconds} s");
    }

    /// <summary>
    /// Runs one call; its end must be a result (exact against an honest server), or an exception
    /// its XML docs list: TimeoutException, RpcConnectionLostException, OperationCanceledException
    /// (a call with a token), never another. The buffer's canaries must be intact.
    /// </summary>
    private static string Sync(Func<RpcResult> call, Buffer? output, HostileServerCase c, long a0, int asked, int fill = 0, bool cancelled = false, bool disposed = false)
    {
        string end;
        try
        {
            RpcResult result = call();
            _ = (result.IsError, result.Errno, result.ToString());
            int capacity = output?.Inner.Length ?? 0;
            Check(result.OutputLength >= 0 && result.OutputLength <= capacity, $"output length {result.OutputLength} for a buffer of {capacity}");
            Check(!result.IsError || result.OutputLength == 0, $"an error {result.Value} with {result.OutputLength} bytes of output");
            if (c.Kind == ServerHostility.Honest)
            {
                int n = Math.Min(asked, capacity);
                Check(result.Value == a0 && result.OutputLength == n, $"the honest answer is ({a0}, {n}), got ({result.Value}, {result.OutputLength})");
                byte[] written = output is null ? [] : output.Inner[..n].ToArray();
                Check(written.All(b => b == (byte)fill), $"the honest output is not {n} bytes of 0x{fill:x2}: {Convert.ToHexString(written)}");
            }

            end = "result";
        }
        catch (TimeoutException)
        {
            end = "timeout";
        }
        catch (RpcConnectionLostException)
        {
            end = "lost";
        }
        catch (OperationCanceledException) when (cancelled)
        {
            end = "cancelled";
        }

        Check(c.Kind != ServerHostility.Honest || end == "result" || disposed, $"a call to the honest server ended with {end}");
        output?.CheckCanaries();
        return end;
    }

    /// <summary>A caller's output buffer between canary bytes.</summary>
    private sealed class Buffer(int length)
    {
        private const byte Canary = 0xC5;
        private readonly byte[] _bytes = Enumerable.Repeat(Canary, length + 128).ToArray();

        public Span<byte> Inner => _bytes.AsSpan(64, length);

        public Memory<byte> Memory => _bytes.AsMemory(64, length);

        public void CheckCanaries()
        {
            for (int i = 0; i < _bytes.Length; i++)
            {
                Check(i is >= 64 && i < 64 + length || _bytes[i] == Canary, $"byte {i - 64} of a {length}-byte output buffer was written (0x{_bytes[i]:x2})");
            }
        }
    }

    /// <summary>
    /// This process's descriptors counted per target (numbers change, targets of a leak stay).
    /// Assemblies and symbols the runtime loads lazily (an API's first use, a stack trace) are not the client's.
    /// </summary>
    private static Dictionary<string, int> Descriptors()
        => OpenDescriptors.List().Where(d => !d.Target.EndsWith(".dll", StringComparison.Ordinal) && !d.Target.EndsWith(".pdb", StringComparison.Ordinal))
            .CountBy(d => d.Target).ToDictionary();

    private static int MemfdMaps() => File.ReadLines("/proc/self/maps").Count(l => l.Contains("/memfd:uintripc", StringComparison.Ordinal));

    /// <summary>The descriptors and memfd mappings are back to their counts, asked again every 20 ms for up to 10 s (a close on another thread may lag).</summary>
    private static void Settled(Dictionary<string, int> before, int maps)
    {
        long deadline = Environment.TickCount64 + 10_000;
        while (true)
        {
            var now = Descriptors();
            string added = string.Join(", ", now.Where(d => d.Value > before.GetValueOrDefault(d.Key)).Select(d => $"{d.Key} x{d.Value} (was {before.GetValueOrDefault(d.Key)})"));
            int mapped = MemfdMaps();
            if (added == "" && mapped <= maps)
            {
                return;
            }

            if (Environment.TickCount64 > deadline)
            {
                throw new InvalidOperationException($"left after Dispose: descriptors [{added}], mappings of uintripc memfds {mapped} (were {maps})");
            }

            Thread.Sleep(20);
        }
    }
}
