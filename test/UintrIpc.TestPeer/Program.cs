namespace UintrIpc.TestPeer;

/// <summary>Entry point of the test peer: dispatches on the first argument.</summary>
internal static class Program
{
    private static int Main(string[] args)
    {
        Console.Error.WriteLine($"unknown command: {string.Join(' ', args)}");
        return 2;
    }
}
