using System.Diagnostics;
using System.Globalization;
using UintrIpc.Channels;
using UintrIpc.Memory;
using UintrIpc.Rings;
using UintrIpc.Signaling;
using UintrIpc.TestPeer.Commands;
using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.Trust;

/// <summary>
/// Proof of no loss: several producer processes and one consumer process on an MPSC slot ring
/// and on an MPSC message channel, killed with SIGKILL at random and restarted, every message
/// carrying a checksum and a per-producer sequence. At the end every message a producer
/// committed is accounted for exactly once, in per-producer order; a message in flight when
/// its producer died arrives at most once. What "committed" and "in flight" mean, and how a
/// killed consumer's last message is told apart from a replay: <see cref="KillLedger"/>.
/// </summary>
/// <remarks>
/// The consumer checks every message as it arrives (checksum, no duplicate, order) and exits
/// 3 on a violation, which fails the test with its message; the test checks the rest from the
/// ledger after the run: gaps only where a message was in flight, nothing beyond the last
/// intent. Default: 60 kills per ring kind (more than 100 per run); UINTRIPC_STRESS=1: 400.
/// UINTRIPC_KILL_SEED=n repeats a run's choice of victims and moments.
/// </remarks>
[Collection(CrossProcessCollection.Name)]
public sealed class KillTests(ITestOutputHelper output) : IDisposable
{
    private const int Producers = 3;
    private static readonly bool s_stress = Environment.GetEnvironmentVariable("UINTRIPC_STRESS") == "1";
    private static readonly TimeSpan ProgressTimeout = TimeSpan.FromSeconds(60);

    private readonly ShmNames _names = new();
    private readonly List<PeerProcess> _processes = [];

    private static int KillsPerKind => s_stress ? 400 : 60;

    [Theory]
    [InlineData("slots")]
    [InlineData("messages")]
    public void Every_committed_message_arrives_exactly_once_in_order_through_random_SIGKILLs(string kind)
    {
        int seed = Environment.GetEnvironmentVariable("UINTRIPC_KILL_SEED") is { Length: > 0 } s ? int.Parse(s, CultureInfo.InvariantCulture) : Random.Shared.Next();
        string repeat = $"kind {kind}, seed {seed} (UINTRIPC_KILL_SEED={seed} repeats its choices, not the timing), {KillsPerKind} kills";
        output.WriteLine(repeat);
        try
        {
            KillAtRandom(kind, seed);
        }
        catch (Exception e)
        {
            // In every failure message: a CI run shows a failure's message, not always the test's output.
            throw new Xunit.Sdk.XunitException($"{repeat}: {e.Message}", e);
        }
    }

    private void KillAtRandom(string kind, int seed)
    {
        var random = new Random(seed);
        string regionName = _names.New("kill");
        string ledgerPath = Path.Combine(SharedRegion.SharedMemoryDirectory, _names.New("ledger"));
        using IDisposable region = kind == "slots"
            ? SharedRegion.CreateNamed(regionName, 0, SlotRing<KillSlot>.Part(64, multipleProducers: true))
            : IpcChannel.CreateMessages(new IpcChannelOptions
            {
                Name = regionName,
                MultipleWriters = true,
                BufferSize = 4096,
                MaxMessageLength = 256,
                Doorbell = DoorbellKind.Futex,
            });
        using var ledger = KillLedger.Create(ledgerPath);

        var run = new Run(this, kind, regionName, ledgerPath, ledger);
        var stopwatch = Stopwatch.StartNew();
        run.StartAll();
        int producerKills = 0, consumerKills = 0;
        while (producerKills + consumerKills < KillsPerKind)
        {
            int victim = random.Next(4) == 0 ? -1 : random.Next(Producers); // -1: the consumer
            run.WaitUntilReady(victim);
            Thread.Sleep(random.Next(0, 30));
            if (victim < 0)
            {
                run.KillConsumer();
                consumerKills++;
            }
            else
            {
                run.KillProducer(victim);
                producerKills++;
            }
        }

        run.Finish();
        output.WriteLine($"{producerKills} producer kills, {consumerKills} consumer kills in {stopwatch.Elapsed.TotalSeconds:F1} s");
        run.Check();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var process in _processes)
        {
            process.Dispose();
        }

        _names.Dispose();
    }

    private static string Arg(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>The processes of one run, their incarnations, and what the kills left in flight.</summary>
    private sealed class Run(KillTests test, string kind, string regionName, string ledgerPath, KillLedger ledger)
    {
        private readonly PeerProcess?[] _producers = new PeerProcess?[Producers];
        private readonly int[] _producerIncarnations = new int[Producers];
        private readonly List<ulong>[] _inFlight = [.. Enumerable.Range(0, Producers).Select(_ => new List<ulong>())];
        private PeerProcess? _consumer;
        private int _consumerIncarnation;
        private ulong _lastProgressMark;
        private long _lastProgress = Stopwatch.GetTimestamp();

        public void StartAll()
        {
            StartConsumer();
            for (int p = 0; p < Producers; p++)
            {
                StartProducer(p);
            }
        }

        /// <summary>Waits until the process (a producer, or the consumer for -1) has done its first work.</summary>
        public void WaitUntilReady(int victim)
        {
            while (true)
            {
                PeerProcess process = (victim < 0 ? _consumer : _producers[victim])!;
                CheckAlive();
                if (process.StandardOutput.Contains("ready", StringComparison.Ordinal))
                {
                    return;
                }

                Thread.Sleep(2);
            }
        }

        public void KillConsumer()
        {
            _consumer!.Kill();
            StartConsumer();
        }

        public void KillProducer(int producer)
        {
            _producers[producer]!.Kill();
            // The process is gone: its words are final.
            ulong intent = Volatile.Read(ref ledger.Intent(producer));
            ulong committed = Volatile.Read(ref ledger.Committed(producer));
            if (intent == committed + 1)
            {
                _inFlight[producer].Add(intent);
            }
            else
            {
                Assert.True(intent == committed, $"producer {producer}: intent {intent} and committed {committed} are more than one apart");
            }

            StartProducer(producer);
        }

        /// <summary>Stops the producers, lets the consumer drain, and waits for all of them to exit cleanly.</summary>
        public void Finish()
        {
            ledger.RequestStop();
            for (int p = 0; p < Producers; p++)
            {
                WaitForCleanExit(_producers[p]!, $"producer {p}");
            }

            ledger.RequestDrain();
            WaitForCleanExit(_consumer!, "consumer");
        }

        /// <summary>Checks the ledger: gaps only where a message was in flight, every committed message delivered.</summary>
        public void Check()
        {
            var gaps = Enumerable.Range(0, Producers).Select(_ => new SortedSet<ulong>()).ToArray();
            int starts = 0, unblocks = 0, redeliveries = 0;
            for (int i = 0; i < ledger.EventCount; i++)
            {
                var (eventKind, a, b, c) = ledger.Event(i);
                switch (eventKind)
                {
                    case KillLedger.EventKind.ConsumerStart:
                        starts++;
                        break;
                    case KillLedger.EventKind.Unblock:
                        unblocks++;
                        break;
                    case KillLedger.EventKind.Redelivery:
                        redeliveries++;
                        break;
                    case KillLedger.EventKind.Gap:
                        Assert.True(a < Producers && c - b < 1_000_000, $"gap event {i} is malformed: producer {a}, {b}..{c}");
                        for (ulong s = b; s <= c; s++)
                        {
                            gaps[a].Add(s); // a consumer killed after logging a gap logs it again: a set
                        }

                        break;
                    default:
                        Assert.Fail($"event {i} has unknown kind {eventKind}");
                        break;
                }
            }

            long delivered = 0, inFlight = 0, inFlightLost = 0;
            for (int p = 0; p < Producers; p++)
            {
                ulong committed = ledger.Committed(p), intent = ledger.Intent(p), next = ledger.Next(p);
                // A clean exit leaves intent == committed, unless the last incarnation stopped before its
                // first message: then the intent of the killed one before it is still in flight.
                Assert.True(intent == committed || _inFlight[p].Contains(intent), $"producer {p}: intent {intent}, committed {committed}, and {intent} was not in flight at a kill");
                Assert.True(next >= committed, $"producer {p}: its last committed message {committed} was not delivered (the consumer got up to {next})");
                Assert.True(next == committed || next == intent, $"producer {p}: the consumer delivered sequence {next}, beyond the producer's intent {intent}");
                var lost = gaps[p].Where(s => !_inFlight[p].Contains(s)).Take(10).ToList();
                Assert.True(lost.Count == 0, $"producer {p}: committed messages never delivered: {string.Join(", ", lost)} (in flight at kills: {string.Join(", ", _inFlight[p])})");
                delivered += (long)next - gaps[p].Count;
                inFlight += _inFlight[p].Count;
                inFlightLost += gaps[p].Count;
            }

            Assert.Equal(_consumerIncarnation + 1, starts);
            test.Output($"{kind}: {delivered} messages delivered exactly once in order; {inFlight} in flight at a producer kill, " +
                $"{inFlightLost} of them never published; {unblocks} dead producers' claims skipped by the slot consumer (the message reader skips them inside its reads); {redeliveries} handled-but-unreleased messages redelivered to a restarted consumer; {starts} consumer incarnations");
            Assert.True(delivered > 0, "nothing was delivered");
        }

        private void StartConsumer()
        {
            if (_consumer is not null)
            {
                _consumerIncarnation++;
            }

            _consumer = test.Start("kill-consume", kind, regionName, ledgerPath, Arg(_consumerIncarnation));
        }

        private void StartProducer(int producer)
        {
            if (_producers[producer] is not null)
            {
                _producerIncarnations[producer]++;
            }

            ulong first = Volatile.Read(ref ledger.Intent(producer)) + 1;
            _producers[producer] = test.Start("kill-produce", kind, regionName, ledgerPath, Arg(producer), Arg(_producerIncarnations[producer]), Arg((long)first));
        }

        /// <summary>Fails when a process exited without being killed, or when nothing was delivered for too long.</summary>
        private void CheckAlive()
        {
            foreach (var (process, name) in _producers.Select((p, i) => (p!, $"producer {i}")).Append((_consumer!, "consumer")))
            {
                if (process.HasExited)
                {
                    Assert.Fail($"{name} (pid {process.Pid}) exited by itself with {process.WaitForExit()}:\n{process.StandardError}\n{process.StandardOutput}");
                }
            }

            ulong mark = 0;
            for (int p = 0; p < Producers; p++)
            {
                mark += Volatile.Read(ref ledger.Next(p));
            }

            if (mark != _lastProgressMark)
            {
                _lastProgressMark = mark;
                _lastProgress = Stopwatch.GetTimestamp();
            }
            else if (Stopwatch.GetElapsedTime(_lastProgress) > ProgressTimeout)
            {
                Assert.Fail($"no message delivered for {ProgressTimeout.TotalSeconds} s: a hang. consumer stderr:\n{_consumer!.StandardError}");
            }
        }

        private static void WaitForCleanExit(PeerProcess process, string name)
        {
            int code = process.WaitForExit(ProgressTimeout);
            Assert.True(code == 0, $"{name} exited with {code}:\n{process.StandardError}\n{process.StandardOutput}");
        }
    }

    private PeerProcess Start(string command, params string[] args)
    {
        // Not forwarded to the test output: hundreds of incarnations would drown it; failures quote it.
        var process = PeerProcess.Start(null, command, args);
        _processes.Add(process);
        return process;
    }

    private void Output(string line) => output.WriteLine(line);
}
