using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using UintrIpc.Bench.GrpcServer;
using UintrIpc.Bench.Processes;

// The gRPC server of the harness's request/response baseline (bench/UintrIpc.Bench --rpc):
//   UintrIpc.Bench.GrpcServer --endpoint SOCKET_PATH --root DIR [--cpu N] [--deadline-ms MS]
// Pins itself (every thread, before Kestrel starts any) to CPU N, serves the data file of DIR
// on the Unix socket, prints "READY {}" and serves until its stdin closes (the harness is gone
// or done with it) or the deadline passes. The harness's ChildProcess speaks this line protocol.
var options = new Dictionary<string, string>(StringComparer.Ordinal);
for (int i = 0; i + 1 < args.Length; i += 2)
{
    options[args[i].TrimStart('-')] = args[i + 1];
}

if (!options.TryGetValue("endpoint", out string? socket) || !options.TryGetValue("root", out string? root))
{
    Console.WriteLine("ERROR usage: UintrIpc.Bench.GrpcServer --endpoint SOCKET_PATH --root DIR [--cpu N] [--deadline-ms MS]");
    return 2;
}

if (options.TryGetValue("cpu", out string? cpu))
{
    Affinity.PinProcess(int.Parse(cpu, CultureInfo.InvariantCulture));
}

var deadline = TimeSpan.FromMilliseconds(options.TryGetValue("deadline-ms", out string? ms) ? double.Parse(ms, CultureInfo.InvariantCulture) : 120_000);
using var file = File.OpenHandle(Path.Combine(root, "data.bin"));
var builder = WebApplication.CreateSlimBuilder();
builder.Logging.ClearProviders();
builder.WebHost.ConfigureKestrel(k => k.ListenUnixSocket(socket, o => o.Protocols = HttpProtocols.Http2));
builder.Services.AddGrpc();
builder.Services.AddSingleton(new GrpcForwardService(file));
await using var app = builder.Build();
app.MapGrpcService<GrpcForwardService>();
await app.StartAsync();
Console.WriteLine("READY {}");
var stdinClosed = Task.Run(() =>
{
    while (Console.In.ReadLine() is not null)
    {
    }
});
await Task.WhenAny(stdinClosed, Task.Delay(deadline));
await app.StopAsync();
return 0;
