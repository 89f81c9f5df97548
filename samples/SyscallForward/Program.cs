using System.CommandLine;

namespace SyscallForward;

/// <summary>The syscall-forwarding server and its clients: `dotnet SyscallForward.dll --help`.</summary>
internal static class Program
{
    private static int Main(string[] args)
    {
        var root = new RootCommand("Forwards system calls to a server that runs them beneath one directory.")
        {
            Seed.SeedCommand.Create(),
        };
        return root.Parse(args).Invoke();
    }
}
