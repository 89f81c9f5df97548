using System.CommandLine;
using UintrIpc.Bootstrap;

namespace SyscallForward.Client;

/// <summary>
/// `loop`: a client that forwards preads and no-ops back to back for a while, so that it can be
/// killed in the middle of a call (the tests do). Prints "loop: running" once it has made a call.
/// </summary>
internal static class LoopCommand
{
    public static Command Create()
    {
        var socket = new Option<string>("--socket") { Description = "The server's socket (path or @name).", Required = true };
        var path = new Option<string>("--path") { Description = "A file beneath the server's directory to pread.", Required = true };
        var seconds = new Option<int>("--seconds") { Description = "How long to loop.", DefaultValueFactory = _ => 60 };
        var command = new Command("loop", "Forward calls back to back until killed (or for --seconds).") { socket, path, seconds };
        command.SetAction(result =>
        {
            using var client = ForwardClient.Connect(result.GetValue(socket)!);
            int fd = client.Open(result.GetValue(path)!, 0);
            byte[] buffer = new byte[4096];
            client.PRead(fd, buffer, 0);
            Console.WriteLine($"loop: running pid={Environment.ProcessId}");
            var end = DateTime.UtcNow.AddSeconds(result.GetValue(seconds));
            long calls = 0;
            while (DateTime.UtcNow < end)
            {
                client.PRead(fd, buffer, 0);
                client.Nop();
                calls += 2;
            }

            Console.WriteLine($"loop: {calls} calls");
            return 0;
        });
        return command;
    }
}
