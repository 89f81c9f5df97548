namespace UintrIpc.TestPeer.Commands;

/// <summary>Commands that check the peer mechanism itself.</summary>
internal static class BasicCommands
{
    /// <summary>Prints its arguments and exits with 0.</summary>
    [PeerCommand("echo")]
    public static int Echo(string[] args)
    {
        Console.WriteLine(string.Join(' ', args));
        return 0;
    }

    /// <summary>Sleeps until killed (for kill-on-failure tests).</summary>
    [PeerCommand("hang")]
    public static int Hang(string[] args)
    {
        Thread.Sleep(Timeout.Infinite);
        return 0;
    }
}
