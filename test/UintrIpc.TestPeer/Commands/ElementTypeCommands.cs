using UintrIpc.Channels;

namespace UintrIpc.TestPeer.Commands;

/// <summary>
/// Opening a named slot channel as a given element type from another process
/// (test/UintrIpc.Tests/Channels/ElementTypeFingerprintTests.cs).
/// </summary>
internal static class ElementTypeCommands
{
    /// <summary>
    /// named-open-typed &lt;name&gt; &lt;long|double&gt; &lt;value&gt;: opens /dev/shm/name as a channel of
    /// that type and writes value as one element (within 10 s), printing "written"; or prints
    /// "refused: &lt;message&gt;" when the open throws a RegionFormatException. Exit 0 either way.
    /// </summary>
    [PeerCommand("named-open-typed")]
    public static int OpenTyped(string[] args)
    {
        TimeSpan wait = TimeSpan.FromSeconds(10);
        try
        {
            if (args[1] == "double")
            {
                using var doubles = IpcChannel.OpenNamed<double>(args[0]);
                Require(doubles.Writer.TryWrite(double.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture), wait));
            }
            else
            {
                using var longs = IpcChannel.OpenNamed<long>(args[0]);
                Require(longs.Writer.TryWrite(long.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture), wait));
            }

            Console.WriteLine("written");
        }
        catch (RegionFormatException e)
        {
            Console.WriteLine($"refused: {e.Message}");
        }

        return 0;
    }

    private static void Require(bool written)
    {
        if (!written)
        {
            throw new InvalidOperationException("the element was not written within 10 s");
        }
    }
}
