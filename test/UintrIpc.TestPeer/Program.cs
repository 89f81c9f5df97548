using System.Reflection;

namespace UintrIpc.TestPeer;

/// <summary>
/// Entry point of the test peer: `dotnet UintrIpc.TestPeer.dll &lt;command&gt; [args...]`.
/// Commands are static methods marked [PeerCommand("name")] taking string[] and returning
/// the exit code; each area keeps its commands in its own file under Commands/.
/// </summary>
internal static class Program
{
    private static int Main(string[] args)
    {
        if (args.Length == 0)
        {
            Console.Error.WriteLine("usage: UintrIpc.TestPeer <command> [args...]");
            return 2;
        }

        var commands = typeof(Program).Assembly.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic))
            .Select(m => (Method: m, Attribute: m.GetCustomAttribute<PeerCommandAttribute>()))
            .Where(x => x.Attribute is not null)
            .ToDictionary(x => x.Attribute!.Name, x => x.Method, StringComparer.Ordinal);

        if (!commands.TryGetValue(args[0], out var method))
        {
            Console.Error.WriteLine($"unknown command '{args[0]}'; known: {string.Join(", ", commands.Keys.Order())}");
            return 2;
        }

        try
        {
            return (int)method.Invoke(null, [args[1..]])!;
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            Console.Error.WriteLine($"{args[0]} failed: {e.InnerException}");
            return 1;
        }
    }
}
