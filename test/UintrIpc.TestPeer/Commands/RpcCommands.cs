using System.Collections.Concurrent;
using System.Diagnostics;
using Tmds.Linux;
using UintrIpc.Bootstrap;
using UintrIpc.Rpc;
using UintrIpc.Signaling;

namespace UintrIpc.TestPeer.Commands;

/// <summary>Servers and clients for the cross-process RPC tests (test/UintrIpc.Tests/Rpc).</summary>
internal static class RpcCommands
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(60);

    /// <summary>
    /// rpc-server &lt;endpoint&gt;: serves the test opcodes (RpcTestOps) until stdin says "quit"
    /// (or closes); prints "listening epoch E pid P" when ready and "served N" at the end.
    /// </summary>
    [PeerCommand("rpc-server")]
    public static int Server(string[] args)
    {
        using var server = RpcTestOps.CreateServer();
        server.SessionOpened += (_, session) => Console.WriteLine($"opened {session.Id} pid {session.Peer.Pid}");
        server.SessionClosed += (_, session) => Console.WriteLine($"closed {session.Id}: {session.CloseReason}");
        server.Start(args[0]);
        Console.WriteLine($"listening epoch {server.Epoch:x16} pid {Environment.ProcessId}");
        while (Console.ReadLine() is { } line && line != "quit")
        {
        }

        Console.WriteLine($"served {server.Statistics.Requests}");
        return 0;
    }

    /// <summary>
    /// rpc-client &lt;endpoint&gt; &lt;threads&gt; &lt;calls per thread&gt; [doorbell]: every thread makes
    /// its calls (sync and async in turn, add and echo), checking every answer; prints
    /// "ok calls N epoch E" and exits 0 when all were right.
    /// </summary>
    [PeerCommand("rpc-client")]
    public static int Client(string[] args)
    {
        var endpoint = args[0];
        int threads = int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture);
        int calls = int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture);
        DoorbellKind? doorbell = args.Length > 3 ? Enum.Parse<DoorbellKind>(args[3], ignoreCase: true) : null;
        using var client = RpcClient.Connect(endpoint, new RpcClientOptions { Doorbell = doorbell, MaxCalls = 16 });
        long ok = RpcTestOps.Hammer(client, threads, calls, seed: Environment.ProcessId);
        Console.WriteLine($"ok calls {ok} epoch {client.ServerEpoch:x16} stats {client.Statistics}");
        return ok == (long)threads * calls ? 0 : 1;
    }

    /// <summary>
    /// rpc-connect-and-exit &lt;endpoint&gt;: connects (the server welcomed it) and exits at once,
    /// so that a server whose SessionOpened handler is held looks at its client only after it is
    /// gone (and reaped). Prints "connected session ID".
    /// </summary>
    [PeerCommand("rpc-connect-and-exit")]
    public static int ConnectAndExit(string[] args)
    {
        using var client = RpcClient.Connect(args[0]);
        Console.WriteLine($"connected session {client.SessionId}");
        return 0;
    }

    /// <summary>
    /// rpc-client-asleep &lt;endpoint&gt; &lt;calls&gt;: makes its calls one at a time, each only once the
    /// server's session thread is asleep (so each request rings it once); waits until it is
    /// asleep again, prints "session ID" and its reading of the session's wait-block counters
    /// (nothing moves them while both sides are idle), and keeps the session open until stdin
    /// says "quit" (or closes).
    /// </summary>
    [PeerCommand("rpc-client-asleep")]
    public static int ClientAsleep(string[] args)
    {
        using var client = RpcClient.Connect(args[0]);
        int calls = int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture);
        var serverWait = new WaitBlock(client.SessionRegion.Region, client.SessionRegion.ServerWaitPart);
        for (int i = 0; i < calls; i++)
        {
            WaitUntilAsleep(serverWait);
            if (client.Call(RpcTestOps.Add, new RpcArgs(i, 1), s_timeout).Value != i + 1)
            {
                return 1;
            }
        }

        WaitUntilAsleep(serverWait);
        Console.WriteLine($"session {client.SessionId} {client.WakeStatistics}");
        while (Console.ReadLine() is { } line && line != "quit")
        {
        }

        return 0;
    }

    /// <summary>
    /// rpc-client-hold &lt;endpoint&gt; &lt;ms&gt; [opcode]: starts a call that sleeps that long on the server
    /// (a blocking handler; or a call of <c>opcode</c> with the same arguments), prints "calling", and waits to be killed.
    /// </summary>
    [PeerCommand("rpc-client-hold")]
    public static int ClientHold(string[] args)
    {
        using var client = RpcClient.Connect(args[0]);
        Console.WriteLine($"connected session {client.SessionId}");
        long ms = long.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture);
        uint opcode = args.Length > 2 ? uint.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : RpcTestOps.Sleep;
        var call = Task.Run(() => client.Call(opcode, new RpcArgs(ms, 1), s_timeout));
        Thread.Sleep(200); // let the request reach the server
        Console.WriteLine("calling");
        call.Wait(s_timeout);
        return 1; // the test kills us first
    }

    /// <summary>
    /// rpc-hostile &lt;endpoint&gt; &lt;maxCalls&gt;: a client that writes raw requests into its region
    /// (uintripc_rpc.h sections 2-4): blocks outside the arena, huge offsets and lengths, unknown
    /// opcodes, ids that name no call. Every one must be answered (the client's router counts
    /// them as unknown or stale ids), and an honest call afterwards must still work. Then it
    /// corrupts its request ring (a sequence word no producer writes) and prints "corrupted";
    /// the server must end the session, which the next call sees as a lost connection.
    /// Prints "forged N unknown U stale S" and "honest ok", "lost ERRNO".
    /// </summary>
    [PeerCommand("rpc-hostile")]
    public static unsafe int Hostile(string[] args)
    {
        using var client = RpcClient.Connect(args[0], new RpcClientOptions { MaxCalls = int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture), ArenaLength = 4096 });
        RpcRegion region = client.SessionRegion;
        uint arena = (uint)region.ArenaLength;
        uint slots = (uint)region.MaxCalls;
        var forged = new List<RpcWireRequest>
        {
            new() { Id = RpcLayout.MakeId(slots + 1, 1), Opcode = RpcTestOps.Echo, DataOffset = arena - 8, InLength = 64 },
            new() { Id = RpcLayout.MakeId(slots + 2, 1), Opcode = RpcTestOps.Fill, DataOffset = 0, OutCapacity = arena + 1, Args = new RpcArgs(0x55, 1 << 20) },
            new() { Id = RpcLayout.MakeId(uint.MaxValue, uint.MaxValue), Opcode = RpcTestOps.Echo, DataOffset = uint.MaxValue, InLength = uint.MaxValue, OutCapacity = uint.MaxValue },
            new() { Id = RpcLayout.MakeId(0, 77), Opcode = RpcTestOps.Fill, DataOffset = arena, OutCapacity = 1 },
            new() { Id = RpcLayout.MakeId(1, 0), Opcode = 0xDEAD, DataOffset = 0 },
            new() { Id = 0, Opcode = uint.MaxValue },
            new() { Id = RpcLayout.MakeId(0, 78), Opcode = RpcTestOps.Add, Args = new RpcArgs(long.MinValue, -1) },
        };
        foreach (var request in forged)
        {
            while (!region.Requests.TryWrite(request))
            {
                client.PollResponses();
                Thread.Yield();
            }

            // Producer side of the wake-up protocol, as the header says (section 5).
            using var bell = new FutexDoorbellSender(new WaitBlock(region.Region, region.ServerWaitPart));
            new WaitBlock(region.Region, region.ServerWaitPart).WakeIfSleeping(bell);
        }

        var deadline = DateTime.UtcNow + s_timeout;
        while (client.Statistics.UnknownIds + client.Statistics.StaleIds < forged.Count && DateTime.UtcNow < deadline)
        {
            client.PollResponses();
            Thread.Sleep(1);
        }

        var stats = client.Statistics;
        Console.WriteLine($"forged {forged.Count} unknown {stats.UnknownIds} stale {stats.StaleIds}");
        if (client.Call(RpcTestOps.Add, new RpcArgs(40, 2), s_timeout).Value != 42)
        {
            return 1;
        }

        Console.WriteLine("honest ok");

        // Corrupt the next request slot's sequence word: no producer ever writes this value.
        var part = region.Region.FindPart(Memory.PartKind.MpscSlots, RpcLayout.RequestsTag);
        byte* ring = region.Region.PartPointer(part);
        ulong tail = Volatile.Read(ref *(ulong*)(ring + Rings.RingLayout.TailOffset));
        int slotSize = Rings.RingLayout.SlotSize(RpcLayout.RequestSize);
        Volatile.Write(ref *(ulong*)(ring + Rings.RingLayout.ControlSize + (long)(tail & (slots - 1)) * slotSize), 0x0BAD_0BAD_0BAD_0BADUL);
        using (var bell = new FutexDoorbellSender(new WaitBlock(region.Region, region.ServerWaitPart)))
        {
            new WaitBlock(region.Region, region.ServerWaitPart).WakeIfSleeping(bell);
        }

        Console.WriteLine("corrupted");
        // The server must notice and end the session (server_state STOPPED) rather than crash or go on.
        while (region.ServerState == RpcLayout.ServerRunning && DateTime.UtcNow < deadline + s_timeout)
        {
            Thread.Sleep(1);
        }

        Console.WriteLine($"server state {region.ServerState}");
        try
        {
            client.Call(RpcTestOps.Add, new RpcArgs(1, 1), s_timeout);
            Console.WriteLine("answered after corruption (unexpected)");
            return 1;
        }
        catch (RpcConnectionLostException e)
        {
            Console.WriteLine($"lost {e.Errno}");
            return 0;
        }
    }

    /// <summary>
    /// rpc-jam-eventfd &lt;endpoint&gt;: a client on the eventfd doorbell that jams the eventfd it
    /// gave the server: clears O_NONBLOCK on the shared file description, fills the counter to
    /// its maximum and announces a sleep, so the server's next ring is a write(2) that would wait
    /// for a read that never comes (this client never reads it: no RpcClient call, whose park
    /// would drain it). Then two raw requests, one after the other; the second is answered only
    /// if the session thread came back from ringing for the first. Prints "jammed", "answered 1"
    /// and "answered 2"; exits 1 when an answer does not come within 20 s.
    /// </summary>
    [PeerCommand("rpc-jam-eventfd")]
    public static unsafe int JamEventFd(string[] args)
    {
        using var client = RpcClient.Connect(args[0], new RpcClientOptions { Doorbell = DoorbellKind.EventFd, MaxCalls = 4 });
        RpcRegion region = client.SessionRegion;
        var own = (EventFdDoorbellReceiver)typeof(RpcClient).GetField("_clientBell", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!.GetValue(client)!;
        int fd = own.FileHandle.Fd;
        if (LibC.fcntl(fd, LibC.F_SETFL, LibC.fcntl(fd, LibC.F_GETFL, 0) & ~LibC.O_NONBLOCK) != 0)
        {
            return 2;
        }

        ulong full = ulong.MaxValue - 1; // the largest count an eventfd holds: any further write of 1 waits
        if (LibC.write(fd, &full, 8) != 8)
        {
            return 3;
        }

        byte* clientWait = region.Region.PartPointer(region.ClientWaitPart);
        ulong* sent = (ulong*)(region.Control + RpcLayout.ControlResponsesSentOffset);
        Console.WriteLine("jammed");
        for (ulong n = 1; n <= 2; n++)
        {
            // A sleep announced before each request: the server rings when it answers.
            Volatile.Write(ref *(uint*)(clientWait + WaitBlockLayout.ConsumerStateOffset), WaitBlockLayout.ConsumerSleeping);
            while (!region.Requests.TryWrite(new RpcWireRequest { Id = RpcLayout.MakeId((uint)region.MaxCalls + 1, 1), Opcode = RpcTestOps.Add }))
            {
                Thread.Yield();
            }

            using (var bell = new FutexDoorbellSender(new WaitBlock(region.Region, region.ServerWaitPart)))
            {
                new WaitBlock(region.Region, region.ServerWaitPart).WakeIfSleeping(bell);
            }

            // The server publishes its count of answers (release) before it rings.
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
            while (Volatile.Read(ref *sent) < n)
            {
                if (DateTime.UtcNow > deadline)
                {
                    Console.WriteLine($"no answer {n}");
                    return 1;
                }

                Thread.Sleep(1);
            }

            Console.WriteLine($"answered {n}");
        }

        return 0;
    }

    /// <summary>
    /// rpc-flood &lt;endpoint&gt;: a client that never takes its answers and writes three rounds of
    /// max_calls raw requests: the first fills the response ring, the second the server's outbox,
    /// the third stays in the request ring, which the server must not read (it has no room for the
    /// answers) and must not spin on either. Prints "stalled calls N" once all are written, then
    /// waits for "quit" on stdin.
    /// </summary>
    [PeerCommand("rpc-flood")]
    public static int Flood(string[] args)
    {
        using var client = RpcClient.Connect(args[0], new RpcClientOptions { MaxCalls = 4 });
        RpcRegion region = client.SessionRegion;
        using var bell = new FutexDoorbellSender(new WaitBlock(region.Region, region.ServerWaitPart));
        var serverWait = new WaitBlock(region.Region, region.ServerWaitPart);
        var deadline = DateTime.UtcNow + s_timeout;
        for (int i = 0; i < 3 * region.MaxCalls; i++)
        {
            // Ids that name no call (this client's router never sees their answers anyway).
            while (!region.Requests.TryWrite(new RpcWireRequest { Id = RpcLayout.MakeId((uint)region.MaxCalls + 1, 1), Opcode = RpcTestOps.Add }))
            {
                if (DateTime.UtcNow > deadline)
                {
                    Console.WriteLine($"server read only {i - region.MaxCalls}");
                    return 1;
                }

                Thread.Sleep(1);
            }

            deadline = DateTime.UtcNow + s_timeout; // from the last progress
            serverWait.WakeIfSleeping(bell);
        }

        Console.WriteLine($"stalled calls {region.MaxCalls}");
        Console.In.ReadLine();
        return 0;
    }

    /// <summary>
    /// rpc-latency &lt;endpoint&gt; &lt;calls&gt; &lt;gap µs&gt; [doorbell]: no-op round trips (Add), one at a
    /// time, with a pause between them (0: back to back, the server keeps spinning; 1000: both
    /// sides go to sleep in between); prints "p50 X p99 Y" in microseconds. A diagnostic, not a test.
    /// </summary>
    [PeerCommand("rpc-latency")]
    public static int Latency(string[] args)
    {
        int calls = int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture);
        int gapUs = int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture);
        DoorbellKind? doorbell = args.Length > 3 ? Enum.Parse<DoorbellKind>(args[3], ignoreCase: true) : null;
        using var client = RpcClient.Connect(args[0], new RpcClientOptions { Doorbell = doorbell });
        var samples = new double[calls];
        for (int i = -1000; i < calls; i++)
        {
            long start = Stopwatch.GetTimestamp();
            client.Call(RpcTestOps.Add, new RpcArgs(i, 1), s_timeout);
            if (i >= 0)
            {
                samples[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
            }

            if (gapUs > 0)
            {
                long until = Stopwatch.GetTimestamp() + gapUs * Stopwatch.Frequency / 1_000_000;
                while (Stopwatch.GetTimestamp() < until)
                {
                    Thread.Sleep(gapUs >= 1000 ? 1 : 0);
                }
            }
        }

        Array.Sort(samples);
        Console.WriteLine($"{client.Doorbell} gap {gapUs} us: p50 {samples[calls / 2]:F2} p99 {samples[calls * 99 / 100]:F2} us");
        return 0;
    }

    /// <summary>
    /// rpc-async-alloc &lt;endpoint&gt; &lt;calls&gt;: a server (handlers on its session thread) and a futex client in
    /// this process, nothing else: runs of asynchronous Fill calls one after another until one ran
    /// with the runtime quiet; prints "allocated B after N runs" (every thread of the process, during that run).
    /// </summary>
    [PeerCommand("rpc-async-alloc")]
    public static int AsyncAllocations(string[] args)
    {
        var endpoint = args[0];
        int calls = int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture);
        using var server = RpcTestOps.CreateServer(new RpcServerOptions { WorkerThreads = 0 });
        server.Start(endpoint);
        using var client = RpcClient.Connect(endpoint, new RpcClientOptions { Doorbell = DoorbellKind.Futex });
        byte[] output = new byte[64];
        async Task<long> Run()
        {
            long before = GC.GetTotalAllocatedBytes(precise: true);
            for (int i = 0; i < calls; i++)
            {
                if ((await client.CallAsync(RpcTestOps.Fill, new RpcArgs(7, 64), default, output)).Value != 64)
                {
                    throw new InvalidOperationException("wrong answer");
                }
            }

            return GC.GetTotalAllocatedBytes(precise: true) - before;
        }

        // Measured once the runtime is quiet: a run in which the JIT compiled nothing (tiering
        // promotes methods in the background and allocates while doing so) and the thread pool
        // started no thread (each new one allocates its thread objects); neither is per call.
        for (int attempt = 0; ; attempt++)
        {
            long compiled = System.Runtime.JitInfo.GetCompiledMethodCount();
            int threads = ThreadPool.ThreadCount;
            long bytes = Run().GetAwaiter().GetResult();
            if ((System.Runtime.JitInfo.GetCompiledMethodCount() == compiled && ThreadPool.ThreadCount == threads) || attempt == 50)
            {
                Console.WriteLine($"allocated {bytes} after {attempt} runs");
                break;
            }
        }

        return 0;
    }

    private static void WaitUntilAsleep(WaitBlock wait)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(s_timeout.TotalSeconds * Stopwatch.Frequency);
        while (!wait.IsConsumerSleeping)
        {
            if (Stopwatch.GetTimestamp() > deadline)
            {
                throw new TimeoutException("the server's session thread never went to sleep");
            }

            Thread.Sleep(1);
        }
    }

    /// <summary>
    /// rpc-late-receiver &lt;endpoint&gt;: the receiver thread of async calls held (RpcClient's
    /// ReceiverTurnHook) just after it found the client not disposed, where a receiver starved past
    /// Dispose's join would be; Dispose then runs with a 100 ms join, and only after it returned
    /// (and the pending call was awaited, dropping its lease) does the receiver go on. Prints
    /// "dispose returned", "pending failed ...", "held: True", "receiver ended", "released" and exits 0; an
    /// exception on the receiver thread (a disposed event under it) ends the process instead.
    /// </summary>
    [PeerCommand("rpc-late-receiver")]
    public static int LateReceiver(string[] args)
    {
        var bound = TimeSpan.FromSeconds(60);
        var client = RpcClient.Connect(args[0]);
        client.ReceiverJoinTimeout = TimeSpan.FromMilliseconds(100);
        if (!client.CallAsync(RpcTestOps.Add, new RpcArgs(1, 2)).AsTask().Wait(bound))
        {
            Console.WriteLine("the first async call was not answered");
            return 2;
        }

        using var held = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        int armed = 1;
        client.ReceiverTurnHook = () =>
        {
            if (Interlocked.Exchange(ref armed, 0) == 1)
            {
                held.Set();
                release.Wait(bound);
            }
        };
        if (!held.Wait(bound))
        {
            Console.WriteLine("the receiver did not reach its turn");
            return 3;
        }

        // Nobody reads while the receiver is held, so this call stays pending whenever the server answers.
        var pending = client.CallAsync(RpcTestOps.Sleep, new RpcArgs(1000, 1)).AsTask();
        client.Dispose();
        Console.WriteLine("dispose returned");
        try
        {
            if (!pending.Wait(bound))
            {
                Console.WriteLine("the pending call did not end");
                return 4;
            }

            Console.WriteLine($"pending answered {pending.Result.Value}");
        }
        catch (AggregateException e) when (e.InnerException is RpcConnectionLostException lost)
        {
            Console.WriteLine($"pending failed {lost.GetType().Name}: {lost.Message}");
        }

        Console.WriteLine($"held: {!client.IsReleased}");
        release.Set();
        if (client.ReceiverThread?.Join(bound) != true)
        {
            Console.WriteLine("the receiver did not end");
            return 5;
        }

        Console.WriteLine("receiver ended");
        Console.WriteLine(client.IsReleased ? "released" : "not released");
        return 0;
    }
}
