using System.Globalization;
using UintrIpc.Bootstrap;
using UintrIpc.Channels;

namespace UintrIpc.TestPeer.Commands;

/// <summary>The long-lived reading side of the resource leak tests (test/UintrIpc.Tests/Bootstrap/ResourceLeakTests.cs).</summary>
internal static class HandoverServeCommands
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);
    private static readonly DoorbellKind[] s_doorbells = [DoorbellKind.Futex, DoorbellKind.EventFd, DoorbellKind.Signal, DoorbellKind.None];

    /// <summary>
    /// handover-serve &lt;slot|message|duplex&gt; &lt;endpoint&gt;: listens and serves one client at a
    /// time, until stdin says "quit" (or closes). Session N gets a new channel of the kind over the
    /// Nth doorbell of futex, eventfd, signal, none (in turn), handed over and the connection
    /// disposed; prints "serving N", then "first N" after its first value, reads (a duplex answers
    /// 2 * request + 1) until the writer completes or is gone, disposes the channel and prints
    /// "closed N DOORBELL: completed after V values" or "closed N DOORBELL: peer gone after V values".
    /// </summary>
    [PeerCommand("handover-serve")]
    public static int Serve(string[] args)
    {
        string kind = args[0];
        using var stop = new CancellationTokenSource();
        var stdin = new Thread(() =>
        {
            while (Console.ReadLine() is { } line && line != "quit")
            {
            }

            stop.Cancel();
        })
        { IsBackground = true, Name = "stdin" };
        using var server = BootstrapServer.Listen(args[1]);
        stdin.Start();
        Console.WriteLine($"listening pid {Environment.ProcessId}");
        int session = 0;
        while (!stop.IsCancellationRequested)
        {
            BootstrapConnection connection;
            try
            {
                connection = server.Accept(TimeSpan.FromSeconds(1), stop.Token);
            }
            catch (TimeoutException)
            {
                continue;
            }
            catch (OperationCanceledException)
            {
                break;
            }

            session++;
            var options = new IpcChannelOptions { Capacity = 64, Doorbell = s_doorbells[(session - 1) % s_doorbells.Length] };
            string end;
            try
            {
                end = kind switch
                {
                    "slot" => ServeSlots(connection, options, session),
                    "message" => ServeMessages(connection, options, session),
                    _ => ServeDuplex(connection, options, session),
                };
            }
            catch (Exception e) when (e is UintrIpcException or TimeoutException)
            {
                end = $"handover failed: {e.Message}"; // a client killed before it took the channel
            }

            Console.WriteLine($"closed {session} {options.Doorbell}: {end}");
        }

        return 0;
    }

    private static string ServeSlots(BootstrapConnection connection, IpcChannelOptions options, int session)
    {
        using var channel = IpcChannel.CreateBounded<long>(options);
        var reader = channel.Reader; // on this thread, before the handover: the signal doorbell targets it
        using (connection)
        {
            connection.SendChannel(channel);
        }

        Console.WriteLine($"serving {session}");
        return ReadAll(session, () => reader.TryRead(out _, s_timeout), () => reader.IsCompleted);
    }

    private static string ServeMessages(BootstrapConnection connection, IpcChannelOptions options, int session)
    {
        using var channel = IpcChannel.CreateMessages(options);
        var reader = channel.Reader;
        using (connection)
        {
            connection.SendChannel(channel);
        }

        Console.WriteLine($"serving {session}");
        byte[] buffer = new byte[channel.MaxMessageLength];
        return ReadAll(session, () => reader.TryRead(out _, buffer, out _, s_timeout), () => reader.IsCompleted);
    }

    private static string ServeDuplex(BootstrapConnection connection, IpcChannelOptions options, int session)
    {
        using var duplex = IpcChannel.CreateDuplex<long, long>(options);
        var requests = duplex.Requests.Reader;
        using (connection)
        {
            connection.SendChannel(duplex, s_timeout);
        }

        Console.WriteLine($"serving {session}");
        var responses = duplex.Responses.Writer;
        return ReadAll(session, () =>
        {
            if (!requests.TryRead(out long request, s_timeout))
            {
                return false;
            }

            if (!responses.TryWrite((2 * request) + 1, s_timeout))
            {
                throw new TimeoutException($"session {session}: no room for a response within {s_timeout.TotalSeconds} s");
            }

            return true;
        }, () => requests.IsCompleted);
    }

    /// <summary>Calls <paramref name="readOne"/> until it returns false (completed, or a timeout) or its writer is gone; says which.</summary>
    private static string ReadAll(int session, Func<bool> readOne, Func<bool> isCompleted)
    {
        long values = 0;
        try
        {
            while (readOne())
            {
                if (values++ == 0)
                {
                    Console.WriteLine($"first {session}");
                }
            }

            return $"{(isCompleted() ? "completed" : "timed out")} after {values.ToString(CultureInfo.InvariantCulture)} values";
        }
        catch (PeerGoneException)
        {
            return $"peer gone after {values.ToString(CultureInfo.InvariantCulture)} values";
        }
    }
}
