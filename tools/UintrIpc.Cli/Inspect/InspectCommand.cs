using System.CommandLine;
using System.Text.Json;
using Spectre.Console;
using UintrIpc.Cli.Output;

namespace UintrIpc.Cli.Inspect;

/// <summary>`uintr-ipc inspect REGION [--json] [--watch]`: a live region's header, parts, rings, wait blocks and peers.</summary>
internal static class InspectCommand
{
    internal static Command Create()
    {
        var region = new Argument<string>("region")
        {
            Description = "A region name (a file in /dev/shm), or a path: /dev/shm/NAME, or /proc/PID/fd/N for a memfd region held by process PID.",
        };
        var json = new Option<bool>("--json") { Description = "Print JSON (with --watch: one snapshot per line)." };
        var watch = new Option<bool>("--watch", "-w") { Description = "Refresh until Ctrl+C (or --count snapshots)." };
        var interval = new Option<int>("--interval") { Description = "Milliseconds between refreshes with --watch.", DefaultValueFactory = _ => 1000 };
        var count = new Option<int>("--count") { Description = "With --watch: stop after this many snapshots (0: until Ctrl+C)." };
        var timeout = new Option<int>("--timeout")
        {
            Description = "Milliseconds to wait for a creator that has not published the region header yet.",
            DefaultValueFactory = _ => 500,
        };
        interval.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() is < 10 or > 3_600_000)
            {
                r.AddError("--interval must be between 10 and 3600000 milliseconds.");
            }
        });
        count.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() < 0)
            {
                r.AddError("--count must be 0 or more.");
            }
        });
        timeout.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() is < 0 or > 60_000)
            {
                r.AddError("--timeout must be between 0 and 60000 milliseconds.");
            }
        });

        var command = new Command("inspect", """
            Shows a live UintrIpc region: its header, the part table, each ring's positions and
            occupancy, each wait block's consumer state, doorbell and counters, and whether the
            processes it names are alive and still map it. Nothing in the region is changed.
            """)
        {
            region, json, watch, interval, count, timeout,
        };
        command.SetAction(async (parse, cancellation) =>
        {
            var (shared, path) = RegionOpener.Open(parse.GetValue(region)!, TimeSpan.FromMilliseconds(parse.GetValue(timeout)));
            using (shared)
            {
                bool asJson = parse.GetValue(json);
                if (!parse.GetValue(watch))
                {
                    var snapshot = RegionReader.Read(shared, path);
                    if (asJson)
                    {
                        Console.WriteLine(JsonSerializer.Serialize(snapshot, CliJson.Default.RegionSnapshot));
                    }
                    else
                    {
                        Terminal.Create().Write(InspectView.Render(snapshot));
                    }

                    return ExitCodes.Ok;
                }

                await Watch(shared, path, asJson, TimeSpan.FromMilliseconds(parse.GetValue(interval)), parse.GetValue(count), cancellation);
                return ExitCodes.Ok;
            }
        });
        return command;
    }

    private static async Task Watch(Memory.SharedRegion region, string path, bool asJson, TimeSpan interval, int count, CancellationToken cancellation)
    {
        var console = Terminal.Create();
        bool live = !asJson && !Console.IsOutputRedirected;
        if (live)
        {
            // One table redrawn in place on a terminal.
            await console.Live(new Text(string.Empty)).StartAsync(async context =>
            {
                for (int i = 0; count == 0 || i < count; i++)
                {
                    context.UpdateTarget(new Rows(InspectView.Render(RegionReader.Read(region, path)), new Text($"{DateTime.Now:HH:mm:ss} every {interval.TotalMilliseconds} ms; Ctrl+C to stop")));
                    context.Refresh();
                    await Task.Delay(interval, cancellation);
                }
            });
            return;
        }

        for (int i = 0; count == 0 || i < count; i++)
        {
            if (i > 0)
            {
                await Task.Delay(interval, cancellation);
            }

            var snapshot = RegionReader.Read(region, path);
            if (asJson)
            {
                Console.WriteLine(JsonSerializer.Serialize(snapshot, CliJson.Compact.RegionSnapshot));
            }
            else
            {
                console.WriteLine($"== {DateTime.Now:HH:mm:ss.fff}");
                console.Write(InspectView.Render(snapshot));
            }

            Console.Out.Flush();
        }
    }
}
