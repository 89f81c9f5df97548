using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using SyscallForward.Client;
using SyscallForward.Metrics;
using UintrIpc;
using UintrIpc.Bootstrap;
using UintrIpc.Rpc;

namespace SyscallForward.Demo;

/// <summary>
/// `demo`: starts the server as a child process on a scratch directory, copies a file through
/// forwarded reads and writes (a <see cref="ForwardedFileStream"/> and CopyToAsync) and checks
/// it, measures the forwarded no-op round trip for each doorbell (server awake, and asleep
/// between calls), stops the server and removes everything.
/// </summary>
internal static class DemoCommand
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);

    public static Command Create()
    {
        var size = new Option<int>("--size-mib") { Description = "Size of the file copied.", DefaultValueFactory = _ => 16 };
        var calls = new Option<int>("--calls") { Description = "Forwarded no-ops timed per doorbell with the server awake.", DefaultValueFactory = _ => 20_000 };
        var command = new Command("demo", "Start a server, copy a file through it, print forwarded-call latency per doorbell.") { size, calls };
        command.SetAction(async (result, token) => await RunAsync(result.GetValue(size), result.GetValue(calls), token));
        return command;
    }

    private static async Task<int> RunAsync(int sizeMiB, int calls, CancellationToken cancellationToken)
    {
        string root = Directory.CreateTempSubdirectory("uintripc-fwd-demo-").FullName;
        string endpoint = $"@uintripc-fwd-demo-{Environment.ProcessId}";
        Process? server = null;
        try
        {
            server = StartServer(endpoint, root);
            Console.WriteLine($"server: pid {server.Id}, serving {root} on {endpoint}");

            byte[] original = RandomNumberGenerator.GetBytes(sizeMiB << 20);
            await File.WriteAllBytesAsync(Path.Combine(root, "source.bin"), original, cancellationToken);
            using (var client = ForwardClient.Connect(endpoint))
            {
                var watch = Stopwatch.StartNew();
                await using (var source = client.OpenStream("source.bin", FileAccess.Read))
                await using (var copy = client.OpenStream("copy.bin", FileAccess.Write, FileMode.Create))
                {
                    await source.CopyToAsync(copy, 256 * 1024, cancellationToken);
                }

                watch.Stop();
                byte[] copied = await File.ReadAllBytesAsync(Path.Combine(root, "copy.bin"), cancellationToken);
                bool same = SHA256.HashData(original).AsSpan().SequenceEqual(SHA256.HashData(copied));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"copy: {sizeMiB} MiB through forwarded reads and writes in {watch.Elapsed.TotalMilliseconds:F0} ms ({sizeMiB / watch.Elapsed.TotalSeconds:F0} MiB/s), contents {(same ? "identical" : "DIFFERENT")}"));
                if (!same)
                {
                    return 1;
                }
            }

            Console.WriteLine();
            Console.WriteLine("forwarded no-op round trip (client and server in separate processes)");
            Console.WriteLine("doorbell   server      p50 us    p99 us   calls   server woken/call  client woken/call");
            foreach (DoorbellKind kind in new[] { DoorbellKind.None, DoorbellKind.Futex, DoorbellKind.EventFd })
            {
                Measure(endpoint, kind, calls, TimeSpan.Zero, "awake");
                if (kind != DoorbellKind.None)
                {
                    Measure(endpoint, kind, Math.Max(calls / 10, 100), TimeSpan.FromMilliseconds(1), "asleep");
                }
            }

            int code = StopServer(server);
            Console.WriteLine($"server: stopped (exit {code})");
            return code;
        }
        catch (Exception e) when (e is UintrIpcException or TimeoutException or IOException)
        {
            Console.Error.WriteLine($"demo failed: {e.Message}");
            return 1;
        }
        finally
        {
            if (server is { HasExited: false })
            {
                server.Kill(entireProcessTree: true);
            }

            server?.Dispose();
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>Times forwarded no-ops; with a pause between calls the server's session goes to sleep, so each call pays its doorbell.</summary>
    private static void Measure(string endpoint, DoorbellKind kind, int calls, TimeSpan pause, string serverState)
    {
        ForwardClient client;
        try
        {
            client = ForwardClient.Connect(endpoint, new RpcClientOptions { Doorbell = kind });
        }
        catch (UintrIpcException e)
        {
            Console.WriteLine($"{kind,-10} not offered here ({e.Message})");
            return;
        }

        using (client)
        {
            for (int i = 0; i < Math.Min(calls, 1000); i++)
            {
                client.Nop(); // warm-up
            }

            long[] samples = new long[calls];
            (long Server, long Client) before = Wakeups(client.Rpc);
            for (int i = 0; i < calls; i++)
            {
                if (pause > TimeSpan.Zero)
                {
                    Thread.Sleep(pause);
                }

                long start = Stopwatch.GetTimestamp();
                client.Nop();
                samples[i] = Stopwatch.GetTimestamp() - start;
            }

            // Each wake-up is a kernel round trip for the side that slept (tens of microseconds here).
            (long Server, long Client) after = Wakeups(client.Rpc);
            Array.Sort(samples);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{kind,-10} {serverState,-8} {Micros(samples[calls / 2]),9:F2} {Micros(samples[(int)(calls * 0.99)]),9:F2} {calls,7} {(double)(after.Server - before.Server) / calls,19:F3} {(double)(after.Client - before.Client) / calls,18:F3}"));
        }
    }

    /// <summary>
    /// Doorbell rings that woke each side of <paramref name="client"/>'s session so far, read through
    /// the meter (uintripc.rpc.session.wakeups; the client reports both sides of its session).
    /// </summary>
    private static (long Server, long Client) Wakeups(RpcClient client)
    {
        var session = RpcMeterReading.Take().Where(m => m.Is("uintripc.rpc.session.wakeups", RpcMeterReading.SessionTag, (long)client.SessionId)).ToList();
        return (session.Sum("uintripc.rpc.session.wakeups", RpcMeterReading.SideTag, "server"), session.Sum("uintripc.rpc.session.wakeups", RpcMeterReading.SideTag, "client"));
    }

    private static double Micros(long ticks) => ticks * 1e6 / Stopwatch.Frequency;

    private static Process StartServer(string endpoint, string root)
    {
        var psi = new ProcessStartInfo(Environment.ProcessPath ?? "dotnet") { RedirectStandardOutput = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(psi.FileName) == "dotnet")
        {
            psi.ArgumentList.Add(typeof(DemoCommand).Assembly.Location);
        }

        foreach (string a in new[] { "serve", "--socket", endpoint, "--root", root })
        {
            psi.ArgumentList.Add(a);
        }

        var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start the server");
        var ready = new TaskCompletionSource();
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is { } line && line.StartsWith("serve: ready", StringComparison.Ordinal))
            {
                ready.TrySetResult();
            }
        };
        process.BeginOutputReadLine();
        if (!ready.Task.Wait(s_timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"the server did not report ready within {s_timeout.TotalSeconds} s");
        }

        return process;
    }

    private static int StopServer(Process server)
    {
        if (Tmds.Linux.LibC.kill(server.Id, Tmds.Linux.LibC.SIGTERM) != 0 || !server.WaitForExit(s_timeout))
        {
            server.Kill(entireProcessTree: true);
            throw new TimeoutException("the server did not stop on SIGTERM");
        }

        server.WaitForExit();
        return server.ExitCode;
    }
}
