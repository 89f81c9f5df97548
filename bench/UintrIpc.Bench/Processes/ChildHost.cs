using UintrIpc.Bench.Workloads;

namespace UintrIpc.Bench.Processes;

/// <summary>
/// Entry point of a child process (<c>--child ROLE ...</c>): runs the role on a dedicated
/// thread (signal and uintr receivers bind to the thread that creates them), and exits when
/// the role is done, when its deadline passes, or when the parent goes away (stdin closes).
/// </summary>
internal static class ChildHost
{
    public static int Run(ReadOnlySpan<string> args)
    {
        var stdout = new StreamWriter(Console.OpenStandardOutput()) { AutoFlush = true };
        var channel = new ChildChannel(stdout);
        ChildArgs parsed;
        try
        {
            parsed = ChildArgs.Parse(args);
        }
        catch (ArgumentException e)
        {
            channel.Error(e.Message);
            return 2;
        }

        var budget = TimeSpan.FromMilliseconds(parsed.GetOrNull("deadline-ms") is { } ms ? double.Parse(ms, System.Globalization.CultureInfo.InvariantCulture) : 120_000);

        // The parent holds our stdin open for as long as it wants us; end of file means it is gone.
        var stdinWatch = new Thread(() =>
        {
            try
            {
                while (Console.In.ReadLine() is not null)
                {
                }
            }
            catch (IOException)
            {
            }

            Environment.Exit(3);
        })
        { IsBackground = true, Name = "stdin watch" };
        stdinWatch.Start();

        int exitCode = 1;
        var worker = new Thread(() =>
        {
            try
            {
                ChildRoles.Run(parsed, channel, new Deadline(budget));
                exitCode = 0;
            }
            catch (Exception e)
            {
                channel.Error($"{e.GetType().Name}: {e.Message}");
                exitCode = 1;
            }
        })
        { Name = $"child {parsed.Role}" };
        worker.Start();
        if (!worker.Join(budget + TimeSpan.FromSeconds(5)))
        {
            channel.Error($"role {parsed.Role} did not finish within its deadline of {budget.TotalSeconds:0.#} s");
            Environment.Exit(4);
        }

        return exitCode;
    }
}
