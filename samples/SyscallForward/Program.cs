using System.CommandLine;

namespace SyscallForward;

/// <summary>The syscall-forwarding server and its clients: `dotnet SyscallForward.dll --help`.</summary>
internal static class Program
{
    private static int Main(string[] args)
    {
        var root = new RootCommand("Forwards system calls to a server that runs them beneath one directory.")
        {
            Server.ServeCommand.Create(),
            Seed.SeedCommand.Create(),
            Demo.DemoCommand.Create(),
            Client.LoopCommand.Create(),
        };
        // "@name" is an abstract socket name here, not a response file.
        return root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null }).Invoke();
    }
}
