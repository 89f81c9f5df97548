using System.Diagnostics;
using System.Reflection;
using UintrIpc.Bootstrap;
using UintrIpc.Channels;

namespace UintrIpc.Demo;

/// <summary>
/// UintrIpc demo: `dotnet run -c Release --project samples/UintrIpc.Demo`. Starts itself again
/// as a child (`--child`), sets up a ping channel (parent -> child) and a pong channel
/// (child -> parent) over the best doorbell, plays ping-pong with the consumers awake and then
/// asleep between messages, streams one way, and prints what it measured.
/// </summary>
internal static class Program
{
    /// <summary>Bound on every wait of the demo: a dead peer ends it with an error, never a hang.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// No spin or yield budget: an empty channel parks at once, so the sleeping phase measures the
    /// doorbell. The receiving side passes the same options; it uses only their wait settings.
    /// </summary>
    public static readonly IpcChannelOptions ChannelOptions = new() { Capacity = 1024, SpinBudget = TimeSpan.Zero, YieldBudget = TimeSpan.Zero };

    private static int Main(string[] args)
    {
        try
        {
            if (args.Length == 3 && args[0] == "--child")
            {
                return Child.Run(args[1], Enum.Parse<DoorbellKind>(args[2]));
            }

            // [doorbell] [--quick]: --quick divides every count by 10 (for slow or emulated machines).
            int scale = args.Contains("--quick") ? 10 : 1;
            string? kindArg = args.FirstOrDefault(a => a != "--quick");
            return Parent.Run(kindArg is not null && Enum.TryParse(kindArg, ignoreCase: true, out DoorbellKind kind) ? kind : null, scale);
        }
        catch (Exception e) when (e is UintrIpcException or TimeoutException or InvalidOperationException or PlatformNotSupportedException)
        {
            Console.Error.WriteLine($"{(args.Length > 0 && args[0] == "--child" ? "child" : "demo")} failed: {e.Message}");
            return 1;
        }
    }

    /// <summary>Polls without sleeping (an awake consumer), bounded by <see cref="Timeout"/>.</summary>
    public static DemoMessage SpinRead(IpcChannelReader<DemoMessage> reader)
    {
        DemoMessage m;
        long start = Stopwatch.GetTimestamp();
        while (!reader.TryRead(out m))
        {
            if ((Stopwatch.GetTimestamp() - start) > Timeout.TotalSeconds * Stopwatch.Frequency)
            {
                throw new TimeoutException($"no message within {Timeout.TotalSeconds} s; is the other process alive?");
            }

            Thread.SpinWait(1);
        }

        return m;
    }

    /// <summary>Writes, waiting (bounded) for room.</summary>
    public static void Write(IpcChannelWriter<DemoMessage> writer, DemoMessage m)
    {
        if (!writer.TryWrite(m, Timeout))
        {
            throw new TimeoutException($"no room within {Timeout.TotalSeconds} s; is the other process alive?");
        }
    }

    /// <summary>The command that starts this program again (apphost, or dotnet with the dll).</summary>
    public static ProcessStartInfo ChildStartInfo(string endpoint, DoorbellKind doorbell)
    {
        string self = Environment.ProcessPath ?? "dotnet";
        var psi = new ProcessStartInfo(self) { UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            psi.ArgumentList.Add(Assembly.GetExecutingAssembly().Location);
        }

        psi.ArgumentList.Add("--child");
        psi.ArgumentList.Add(endpoint);
        psi.ArgumentList.Add(doorbell.ToString());
        return psi;
    }
}
