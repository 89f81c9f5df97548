using System.Diagnostics;
using UintrIpc.Bootstrap;
using UintrIpc.Channels;

namespace UintrIpc.Demo;

/// <summary>
/// The first process: prints the doorbell report, starts the child, hands it the pong channel
/// over Bootstrap and receives the ping channel, then measures. The child is killed if anything
/// fails; the channels live in memfd regions, so nothing is left in /dev/shm.
/// </summary>
internal static class Parent
{
    private const int AwakeRoundTrips = 20_000;
    private const int SleepingRoundTrips = 2_000;
    private const int StreamMessages = 2_000_000;

    /// <param name="requested">The doorbell to use, or null for <see cref="IpcChannel.DefaultDoorbell"/>.</param>
    /// <param name="scale">Divides every count (10 with --quick: a slow or emulated machine).</param>
    public static int Run(DoorbellKind? requested, int scale = 1)
    {
        Console.WriteLine("UintrIpc demo: two processes, a ping channel and a pong channel in shared memory.");
        Console.WriteLine();
        Console.WriteLine("Doorbells on this machine:");
        foreach (DoorbellKind kind in Enum.GetValues<DoorbellKind>())
        {
            bool available = IpcChannel.IsDoorbellAvailable(kind, out string reason);
            Console.WriteLine($"  {kind,-15} {(available ? "available  " : "unavailable")}  {reason}");
        }

        DoorbellKind doorbell = requested ?? IpcChannel.DefaultDoorbell;
        Console.WriteLine();
        Console.WriteLine($"Using: {doorbell}{(requested is null ? " (IpcChannel.DefaultDoorbell)" : " (asked for)")}");
        if (!IpcChannel.IsDoorbellAvailable(doorbell, out string why))
        {
            Console.Error.WriteLine($"{doorbell} is not available here: {why}");
            return 2;
        }

        string endpoint = $"@uintripc-demo-{Environment.ProcessId}-{Guid.NewGuid():N}";
        using var server = BootstrapServer.Listen(endpoint);
        using var pongChannel = IpcChannel.CreateBounded<DemoMessage>(Program.ChannelOptions with { Doorbell = doorbell });
        var pong = pongChannel.Reader; // on this thread: signal and uintr doorbells bind to it
        using var child = Process.Start(Program.ChildStartInfo(endpoint, doorbell))
            ?? throw new InvalidOperationException("could not start the child process");
        try
        {
            using (var connection = AcceptChild(server, child))
            {
                if (connection.Peer.Pid != child.Id)
                {
                    throw new InvalidOperationException($"an unexpected process (pid {connection.Peer.Pid}) connected");
                }

                connection.SendChannel(pongChannel);
                // The child is still starting (it compiles its channel code first: seconds on a loaded
                // or emulated machine), so wait as long as for its connection; if it dies, its socket
                // closes and this ends at once.
                using var pingChannel = connection.ReceiveChannel<DemoMessage>(StartupLimit, Program.ChannelOptions);
                var ping = pingChannel.Writer;
                Console.WriteLine($"Child pid {child.Id}; channels of {ping.Capacity} slots; the consumers park at once when idle (spin and yield budgets 0).");
                Console.WriteLine();

                using var session = new Session(ping, pong);
                session.RoundTrips("awake   (consumers poll)", awake: true, AwakeRoundTrips / scale);
                session.RoundTrips("sleeping (consumers park)", awake: false, SleepingRoundTrips / scale);
                session.Stream(StreamMessages / scale);
                session.Exchange(new DemoMessage(DemoCommand.Stop));
            }

            if (!child.WaitForExit(Program.Timeout))
            {
                throw new TimeoutException("the child did not exit");
            }

            Console.WriteLine();
            Console.WriteLine(child.ExitCode == 0 ? "Done." : $"The child exited with {child.ExitCode}.");
            return child.ExitCode;
        }
        finally
        {
            if (!child.HasExited)
            {
                child.Kill(entireProcessTree: true);
                child.WaitForExit(Program.Timeout);
            }
        }
    }

    /// <summary>
    /// Waits for the child to connect for as long as it is alive and starting (a .NET start
    /// takes seconds, tens of seconds on a slow or emulated machine), at most StartupLimit.
    /// </summary>
    private static BootstrapConnection AcceptChild(BootstrapServer server, Process child)
    {
        long start = Stopwatch.GetTimestamp();
        while (true)
        {
            try
            {
                return server.Accept(TimeSpan.FromSeconds(1));
            }
            catch (TimeoutException) when (!child.HasExited && Stopwatch.GetElapsedTime(start) < StartupLimit)
            {
                // Still starting: keep waiting.
            }
            catch (TimeoutException) when (child.HasExited)
            {
                throw new InvalidOperationException($"the child exited with {child.ExitCode} before it connected");
            }
        }
    }

    /// <summary>Bound on the child's start-up (until it connects).</summary>
    private static readonly TimeSpan StartupLimit = TimeSpan.FromMinutes(2);

    private sealed class Session(IpcChannelWriter<DemoMessage> ping, IpcChannelReader<DemoMessage> pong) : IDisposable
    {
        private readonly ChannelCounters _counters = new();

        public void Dispose() => _counters.Dispose();

        private long _sequence;

        /// <summary>Sends a command and waits for the child's answer.</summary>
        public DemoMessage Exchange(DemoMessage m)
        {
            m.Sequence = ++_sequence;
            Program.Write(ping, m);
            DemoMessage answer = pong.Read(Program.Timeout);
            if (answer.Command != m.Command || answer.Sequence != m.Sequence)
            {
                throw new InvalidOperationException($"expected the answer to {m.Command} #{m.Sequence}, got {answer.Command} #{answer.Sequence}");
            }

            return answer;
        }

        public void RoundTrips(string name, bool awake, int count)
        {
            Exchange(new DemoMessage(awake ? DemoCommand.StayAwake : DemoCommand.Sleep));
            Measure(awake, count / 10); // warm-up: JIT, caches
            var cpu = CpuMark.Take(this);
            var before = _counters.Take();
            long start = Stopwatch.GetTimestamp();
            long[] rtt = Measure(awake, count);
            double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            var (parentCpu, childCpu) = cpu.Since(this);
            var counted = ChannelCounters.Between(before, _counters.Take());

            Array.Sort(rtt);
            Console.WriteLine($"Ping-pong, {name}: {count} round trips in {seconds * 1000:F0} ms");
            Console.WriteLine($"  round trip   p50 {Micros(rtt[count / 2]),8:F2} us   p99 {Micros(rtt[(int)(count * 0.99)]),8:F2} us   {count / seconds,10:N0} round trips/s ({2 * count / seconds:N0} messages/s)");
            // Per channel, from the UintrIpc meter; both are memfd channels, told apart only by their tag.
            Console.WriteLine($"  wake-ups     sent {Each(counted, c => c.WakeupsSent)}, suppressed {Each(counted, c => c.WakeupsSuppressed)} (each channel's reader)");
            Console.WriteLine($"  sleeps       {Each(counted, c => c.Sleeps)} (timeouts {Each(counted, c => c.Timeouts)})");
            Console.WriteLine($"  CPU time     parent {parentCpu.TotalMilliseconds,7:F1} ms ({100 * parentCpu.TotalSeconds / seconds,3:F0}% of a core)   child {childCpu.TotalMilliseconds,7:F1} ms ({100 * childCpu.TotalSeconds / seconds,3:F0}%)");
            Console.WriteLine();
        }

        public void Stream(int count)
        {
            Exchange(new DemoMessage(DemoCommand.StayAwake));
            var batch = new DemoMessage[256];
            var cpu = CpuMark.Take(this);
            var before = _counters.Take();
            long start = Stopwatch.GetTimestamp();
            var command = new DemoMessage(DemoCommand.Stream, ++_sequence, count);
            Program.Write(ping, command);
            var progress = new Progress();
            for (int sent = 0; sent < count;)
            {
                int n = ping.TryWrite(batch.AsSpan(0, Math.Min(batch.Length, count - sent)));
                sent += n;
                if (progress.HasStalled(n))
                {
                    throw new TimeoutException($"stream: the child read nothing for {Program.Timeout.TotalSeconds} s after {sent} messages");
                }
            }

            DemoMessage answer = pong.Read(Program.Timeout);
            double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            var (parentCpu, childCpu) = cpu.Since(this);
            var counted = ChannelCounters.Between(before, _counters.Take());
            if (answer.Command != DemoCommand.Stream || answer.Value != count)
            {
                throw new InvalidOperationException($"stream: the child counted {answer.Value} of {count} messages");
            }

            Console.WriteLine($"One-way stream, batches of {batch.Length}, consumer polling: {count:N0} messages in {seconds * 1000:F0} ms");
            Console.WriteLine($"  throughput   {count / seconds,14:N0} messages/s");
            Console.WriteLine($"  wake-ups     sent {Each(counted, c => c.WakeupsSent)}, suppressed {Each(counted, c => c.WakeupsSuppressed)} (one check per batch; each channel)");
            Console.WriteLine($"  CPU time     parent {parentCpu.TotalMilliseconds,7:F1} ms   child {childCpu.TotalMilliseconds,7:F1} ms");
        }

        private long[] Measure(bool awake, int count)
        {
            var rtt = new long[count];
            for (int i = 0; i < count; i++)
            {
                long seq = ++_sequence;
                var m = new DemoMessage(DemoCommand.Ping, seq, i);
                long t0 = Stopwatch.GetTimestamp();
                Program.Write(ping, m);
                DemoMessage answer = awake ? Program.SpinRead(pong) : pong.Read(Program.Timeout);
                rtt[i] = Stopwatch.GetTimestamp() - t0;
                if (answer.Sequence != seq)
                {
                    throw new InvalidOperationException($"round trip {i}: sent #{seq}, got #{answer.Sequence}");
                }
            }

            return rtt;
        }

        private static string Each(ChannelCounters.Counts[] channels, Func<ChannelCounters.Counts, long> count) =>
            string.Join(" + ", channels.Select(c => count(c).ToString(System.Globalization.CultureInfo.InvariantCulture)));

        private static double Micros(long ticks) => ticks * 1e6 / Stopwatch.Frequency;


        /// <summary>CPU time of both processes at one moment (the child reports its own over the channel).</summary>
        private readonly record struct CpuMark(TimeSpan Parent, TimeSpan Child)
        {
            public static CpuMark Take(Session session) => new(
                Process.GetCurrentProcess().TotalProcessorTime,
                TimeSpan.FromMicroseconds(session.Exchange(new DemoMessage(DemoCommand.ReportCpu)).Value));

            public (TimeSpan Parent, TimeSpan Child) Since(Session session)
            {
                var now = Take(session);
                return (now.Parent - Parent, now.Child - Child);
            }
        }
    }
}
