using System.Diagnostics;
using UintrIpc.Bootstrap;
using UintrIpc.Channels;
using UintrIpc.Signaling;

namespace UintrIpc.TestPeer.Commands;

/// <summary>
/// Misuse and hostile-peer scenarios of the channel trust tests (test/UintrIpc.Tests/Channels/
/// ChannelTrustTests.cs) that could take the whole process down: they run here, in a child,
/// so that a crash fails one test instead of killing the test host.
/// </summary>
internal static unsafe class ChannelTrustCommands
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(30);

    /// <summary>
    /// channel-dispose-while-waiting &lt;read|wait|handler|async|write|waitwrite&gt;: for slot and message
    /// channels and the futex, eventfd and none doorbells, a thread blocks in a read (or a write
    /// on a full ring, or a WaitToWrite there) while this thread disposes the endpoint and the channel. Prints one line
    /// per case, "&lt;case&gt;: &lt;how the waiter ended&gt;", and exits 0 if every waiter ended with
    /// ObjectDisposedException; a fault would end the process instead.
    /// </summary>
    [PeerCommand("channel-dispose-while-waiting")]
    public static int DisposeWhileWaiting(string[] args)
    {
        string operation = args[0];
        int failures = 0;
        foreach (bool messages in new[] { false, true })
        {
            foreach (var kind in new[] { DoorbellKind.Futex, DoorbellKind.EventFd, DoorbellKind.None })
            {
                string name = $"{(messages ? "message" : "slot")} {kind} {operation}";
                string outcome = RunDisposeCase(messages, kind, operation);
                Console.WriteLine($"{name}: {outcome}");
                failures += outcome == nameof(ObjectDisposedException) ? 0 : 1;
            }
        }

        return failures == 0 ? 0 : 3;
    }

    private static string RunDisposeCase(bool messages, DoorbellKind kind, string operation)
    {
        var options = new IpcChannelOptions
        {
            Capacity = 8,
            BufferSize = 128,
            MaxMessageLength = 8,
            Doorbell = kind,
            Wait = new ChannelWaitOptions { MaxParkTime = TimeSpan.FromMilliseconds(20) }, // parks end often: a fault would show soon
        };
        IDisposable channel, consumer, producer;
        Func<object?> wait;
        WaitBlock waitBlock;
        if (messages)
        {
            var c = IpcChannel.CreateMessages(options);
            var r = c.Reader;
            var w = c.Writer;
            (channel, consumer, producer, waitBlock) = (c, r, w, new WaitBlock(c.Region));
            var buffer = new byte[8];
            wait = operation switch
            {
                "read" => () => r.TryRead(out _, buffer, out _, s_wait),
                "wait" => () => r.WaitToRead(s_wait),
                "handler" => () => { var h = new Discard(); return r.Read(ref h, 1, s_wait); },
                "async" => () => r.ReadAsync(buffer).AsTask().GetAwaiter().GetResult(),
                "waitwrite" => () => { while (w.TryWrite(1, [1])) { } return w.WaitToWrite(16, s_wait); },
                _ => () => { while (w.TryWrite(1, [1])) { } return w.TryWrite(1, [1], s_wait); },
            };
        }
        else
        {
            var c = IpcChannel.CreateBounded<long>(options);
            var r = c.Reader;
            var w = c.Writer;
            (channel, consumer, producer, waitBlock) = (c, r, w, new WaitBlock(c.Region));
            wait = operation switch
            {
                "read" or "handler" => () => r.TryRead(out _, s_wait),
                "wait" => () => r.WaitToRead(s_wait),
                "async" => () => r.ReadAsync().AsTask().GetAwaiter().GetResult(),
                "waitwrite" => () => { while (w.TryWrite(1)) { } return w.WaitToWrite(s_wait); },
                _ => () => { while (w.TryWrite(1)) { } return w.TryWrite(1, s_wait); },
            };
        }

        string outcome = "still waiting";
        var waiter = new Thread(() =>
        {
            try
            {
                outcome = $"returned {wait()}";
            }
            catch (Exception e)
            {
                outcome = e.GetType().Name;
            }
        })
        { IsBackground = true, Name = "waiter" };
        waiter.Start();

        // Until the waiter sleeps (a reader announces it; a writer backs off in 1 ms sleeps).
        var start = Stopwatch.StartNew();
        while (operation is not ("write" or "waitwrite") && kind != DoorbellKind.None && !waitBlock.IsConsumerSleeping && start.Elapsed < s_wait)
        {
            Thread.Sleep(1);
        }

        Thread.Sleep(50);
        if (operation is "write" or "waitwrite")
        {
            producer.Dispose();
            channel.Dispose();
            consumer.Dispose();
        }
        else
        {
            consumer.Dispose();
            channel.Dispose();
            producer.Dispose();
        }

        // The waiter must end soon; the mapping is gone for everyone but the waiter's own lease.
        return waiter.Join(TimeSpan.FromSeconds(10)) ? outcome : "did not end within 10 s";
    }

    private struct Discard : IRecordHandler
    {
        public readonly void Handle(int type, ReadOnlySpan<byte> payload)
        {
        }
    }

    /// <summary>
    /// channel-consume-and-hang &lt;slot|message&gt; &lt;name&gt;: opens the named channel, creates its
    /// consumer, reads one value, prints "consuming", then stays alive without reading (the
    /// heartbeat keeps moving) until it is killed or 120 s pass.
    /// </summary>
    [PeerCommand("channel-consume-and-hang")]
    public static int ConsumeAndHang(string[] args)
    {
        bool read;
        IDisposable consumer;
        if (args[0] == "slot")
        {
            var channel = IpcChannel.OpenNamed<long>(args[1]);
            var c = channel.Reader;
            consumer = channel; // disposes its reader
            read = c.TryRead(out _, s_wait);
        }
        else
        {
            var channel = IpcChannel.OpenNamedMessages(args[1]);
            var c = channel.Reader;
            consumer = channel; // disposes its reader
            read = c.TryRead(out _, new byte[c.MaxMessageLength], out _, s_wait);
        }

        using (consumer)
        {
            Console.WriteLine(read ? "consuming" : "nothing to read");
            Thread.Sleep(TimeSpan.FromSeconds(120));
        }

        return 0;
    }

    /// <summary>
    /// channel-bootstrap-produce-and-hang &lt;slot|message&gt; &lt;endpoint&gt; &lt;count&gt;: receives a producer
    /// over the bootstrap endpoint, writes `count` values, prints "written", then stays alive
    /// without completing until it is killed or 120 s pass.
    /// </summary>
    [PeerCommand("channel-bootstrap-produce-and-hang")]
    public static int BootstrapProduceAndHang(string[] args)
    {
        int count = int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture);
        using var connection = BootstrapConnection.Connect(args[1], s_wait);
        if (args[0] == "slot")
        {
            using var channel = connection.ReceiveChannel<long>(s_wait);
            var producer = channel.Writer;
            for (long v = 0; v < count; v++)
            {
                if (!producer.TryWrite(v, s_wait))
                {
                    return 3;
                }
            }

            Console.WriteLine("written");
            Thread.Sleep(TimeSpan.FromSeconds(120));
        }
        else
        {
            using var channel = connection.ReceiveMessageChannel(s_wait);
            var producer = channel.Writer;
            for (long v = 0; v < count; v++)
            {
                if (!producer.TryWrite((int)(v % 7), BitConverter.GetBytes(v), s_wait)) // as ChannelUnderTest expects
                {
                    return 3;
                }
            }

            Console.WriteLine("written");
            Thread.Sleep(TimeSpan.FromSeconds(120));
        }

        return 0;
    }

    /// <summary>
    /// channel-bootstrap-consume-and-hang &lt;endpoint&gt;: hosts a slot channel of long (16 slots,
    /// futex) behind a bootstrap server, sends it to the first client, prints "sent", then stays
    /// alive without reading until it is killed or 120 s pass.
    /// </summary>
    [PeerCommand("channel-bootstrap-consume-and-hang")]
    public static int BootstrapConsumeAndHang(string[] args)
    {
        using var server = BootstrapServer.Listen(args[0]);
        Console.WriteLine("listening");
        using var channel = IpcChannel.CreateBounded<long>(new IpcChannelOptions { Capacity = 16, Doorbell = DoorbellKind.Futex });
        using var connection = server.Accept(s_wait);
        connection.SendChannel(channel);
        Console.WriteLine("sent");
        Thread.Sleep(TimeSpan.FromSeconds(120));
        return 0;
    }
}
