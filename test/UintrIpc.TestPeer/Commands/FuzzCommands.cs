using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using UintrIpc.Channels;
using UintrIpc.Memory;
using UintrIpc.Rings;
using UintrIpc.Signaling;

namespace UintrIpc.TestPeer.Commands;

/// <summary>An element of the fuzz test: epoch 0 while the region is mutated, epoch 1 after.</summary>
[StructLayout(LayoutKind.Sequential)]
internal readonly record struct FuzzItem(long Epoch, long Sequence, long Check)
{
    public static FuzzItem Of(long epoch, long sequence) => new(epoch, sequence, Mix(epoch, sequence));

    public bool IsIntact => Check == Mix(Epoch, Sequence);

    private static long Mix(long epoch, long sequence) => unchecked(((sequence * (long)0x9E3779B97F4A7C15) ^ epoch) + 0x5DEECE66D);
}

/// <summary>
/// The victim of the fuzz test (test/UintrIpc.Tests/Trust/FuzzTests.cs). Each round creates a
/// channel in a memfd, attaches to it between guard pages (<see cref="GuardedAttach"/>), and
/// runs a producer thread and a consumer thread on that attachment while this thread writes
/// random bad values into the region through a second mapping: header, part table, ring
/// descriptor, positions, heartbeat, slot sequence words or record headers near the head and
/// the tail, and the wait block. Then the mutations stop and the producer writes a second
/// epoch of messages, which must all arrive in order unless an endpoint reported a
/// validation error. Finally the mutated region is attached afresh (validation at attach).
/// </summary>
internal static unsafe class FuzzCommands
{
    private const int EpochTwoCount = 48;

    /// <summary>A single library call that takes longer than this (without a timeout of its own) counts as a hang.</summary>
    private static readonly TimeSpan HangBound = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Empty reads the consumer makes, after the writes stopped, before a side gives up (with
    /// <see cref="GiveUpAfter"/> passed too). Counted, not timed: a thread the scheduler leaves
    /// without a core for longer than any window makes no reads meanwhile (a failure seen once at
    /// load 30, seed 635157806, was a 200 ms window alone running out).
    /// </summary>
    private const int StalledReads = 50;

    /// <summary>No side gives up before this much time without progress: an MPSC consumer unblocks a forged claim after 100 + 50 ms.</summary>
    private static readonly TimeSpan GiveUpAfter = TimeSpan.FromMilliseconds(200);

    /// <summary>How long an attach waits for the magic (a mutated magic makes it wait this long, then refuse).</summary>
    private static readonly TimeSpan AttachTimeout = TimeSpan.FromMilliseconds(20);

    /// <summary>
    /// fuzz-victim &lt;slots|messages&gt; &lt;spsc|mpsc&gt; &lt;seed&gt; &lt;rounds&gt; [starve-ms]: prints one line per notable round and
    /// a summary; exits 0 when every round ended well, 6 when a round lost or reordered messages
    /// silently or an endpoint threw something other than a validation error, 5 on a hang. A
    /// crash (a fault at a guard page, for example) is the test's to see. With starve-ms, every
    /// round plays a loaded scheduler (<see cref="Round.StopChaosWithTheConsumerStarved"/>) and is printed.
    /// </summary>
    [PeerCommand("fuzz-victim")]
    public static int Victim(string[] args)
    {
        bool messages = args[0] == "messages", mpsc = args[1] == "mpsc";
        int seed = int.Parse(args[2], CultureInfo.InvariantCulture), rounds = int.Parse(args[3], CultureInfo.InvariantCulture);
        var starve = TimeSpan.FromMilliseconds(args.Length > 4 ? int.Parse(args[4], CultureInfo.InvariantCulture) : 0);
        var outcomes = new SortedDictionary<string, int>(StringComparer.Ordinal);
        int failures = 0;
        double maxOperationMs = 0;
        string maxOperationName = "none";
        for (int round = 0; round < rounds; round++)
        {
            var random = new Random(seed + round);
            var run = new Round(messages, mpsc, random, starve);
            string outcome = run.Execute();
            if (run.MaxOperation.TotalMilliseconds > maxOperationMs)
            {
                maxOperationMs = run.MaxOperation.TotalMilliseconds;
                maxOperationName = run.MaxOperationName;
            }
            string key = outcome.StartsWith("FAIL", StringComparison.Ordinal) ? "FAIL" : outcome.Split(':')[0];
            outcomes[key] = outcomes.GetValueOrDefault(key) + 1;
            bool failed = outcome.StartsWith("FAIL", StringComparison.Ordinal) || outcome.StartsWith("HANG", StringComparison.Ordinal);
            if (starve > TimeSpan.Zero && !failed)
            {
                Console.WriteLine($"round {round} (seed {seed + round}): {outcome}");
            }

            if (failed)
            {
                failures++;
                Console.WriteLine($"round {round} (seed {seed + round}): {outcome}");
                if (outcome.StartsWith("HANG", StringComparison.Ordinal))
                {
                    Console.Out.Flush();
                    return 5;
                }
            }
        }

        Console.WriteLine($"summary: {rounds} rounds; {string.Join(", ", outcomes.Select(o => $"{o.Key} {o.Value}"))}; longest operation {maxOperationMs:F1} ms ({maxOperationName})");
        return failures == 0 ? 0 : 6;
    }

    /// <summary>
    /// fuzz-guard-selftest &lt;before|after&gt;: attaches a channel between guard pages and reads the byte
    /// just before or just after the region. Must die of the fault: proof that the guard pages are there.
    /// </summary>
    [PeerCommand("fuzz-guard-selftest")]
    public static int GuardSelfTest(string[] args)
    {
        using var creator = IpcChannel.CreateBounded<FuzzItem>(new IpcChannelOptions { Capacity = 64, Doorbell = DoorbellKind.Futex });
        var (channel, guard) = GuardedAttach.Attach(creator.Region.Size, () => IpcChannel.Attach<FuzzItem>(creator.Region.FileHandle), c => c.Region);
        byte* inside = channel.Region.BasePointer;
        byte* outside = args[0] == "before" ? inside - 1 : inside + channel.Region.Size;
        Console.WriteLine($"inside reads {inside[0]}; reading {(args[0] == "before" ? "before" : "after")} the region");
        Console.Out.Flush();
        Console.WriteLine($"outside reads {Volatile.Read(ref *outside)}: no guard page");
        channel.Dispose();
        guard.Dispose();
        return 0;
    }

    /// <summary>One round: chaos, then the second epoch, then a fresh attach.</summary>
    private sealed class Round(bool messages, bool mpsc, Random random, TimeSpan starveConsumer)
    {
        private readonly Stopwatch _clock = new();
        // The starvation (fuzz-victim's fifth argument): the consumer parks at the top of its loop when asked.
        private volatile bool _parkConsumer;
        private volatile bool _consumerParked;
        private volatile bool _consumerResumes;
        private volatile bool _foundFullWhileParked;
        private volatile bool _chaos = true;
        private volatile bool _done;
        private volatile bool _consumerEnded;
        private string? _error;
        private string? _anomaly;
        private long _epochOneWritten;
        private long _epochOneDelivered;
        // Reads that found nothing; the producer gives up only while they grow (StalledReads).
        private long _emptyReads;
        private long _maxOperationTicks;
        // What a hang report tells of the consumer: reads that returned a message, and when its current read began (0: not in one).
        private long _consumerMessages;
        private long _consumerReadStarted;

        public string MaxOperationName { get; private set; } = "none";

        public TimeSpan MaxOperation => Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _maxOperationTicks));

        public string Execute()
        {
            var options = new IpcChannelOptions
            {
                Capacity = 64,
                BufferSize = 2048,
                MaxMessageLength = 64,
                MultipleWriters = mpsc,
                Doorbell = DoorbellKind.Futex,
                Wait = new ChannelWaitOptions { MaxParkTime = TimeSpan.FromMilliseconds(1) },
            };
            using Endpoints creator = messages ? new MessageEndpoints(IpcChannel.CreateMessages(options)) : new SlotEndpoints(IpcChannel.CreateBounded<FuzzItem>(options));
            SharedRegion region = creator.Region;
            var (victim, guard) = GuardedAttach.Attach(region.Size, () => creator.AttachAgain(), e => e.Region);
            bool hung = false;
            try
            {
                victim.Open();
                var consumer = new Thread(() => Guarded("consumer", () => Consume(victim))) { Name = "fuzz consumer", IsBackground = true };
                var producer = new Thread(() => Guarded("producer", () => Produce(victim))) { Name = "fuzz producer", IsBackground = true };
                consumer.Start();
                producer.Start();
                // A few bad values per round, spread over a few milliseconds of traffic: enough rounds stay
                // unnoticed for the second epoch to show whether the damage was silent.
                var mutator = new Mutator(region, random);
                int mutations = random.Next(1, 7);
                for (int m = 0; m < mutations; m++)
                {
                    Thread.Sleep(random.Next(0, 3));
                    mutator.MutateOnce();
                }

                Thread.Sleep(1);

                string starved = starveConsumer > TimeSpan.Zero ? StopChaosWithTheConsumerStarved(mutator) : StopChaos();
                // Longer than each thread's own bound: the producer gives up HangBound after its last
                // write (one call later), the consumer after the producer plus its stalled reads. A join
                // of HangBound alone called a starved round a hang (fuzzhunt: 5 of 7 runs of 2000 rounds at
                // load 20-72, consumers making 28-51 reads in 10 s); a call that never returns still is one.
                if (!producer.Join(HangBound * 2) || !consumer.Join(HangBound * 3))
                {
                    hung = true; // the threads still use the mapping: leave it to the process exit
                    return $"HANG: a thread did not finish (error so far: {_error ?? "none"}; {ConsumerState()}; mutations: {mutator.Log})";
                }

                // A forged heartbeat may say the consumer detached: the consumer may always leave.
                // A consumer may unblock an MPSC producer's claim (TryUnblock): a forged head past the claim or a
                // rewritten record header reads the same, and the producer then reports its claim lost.
                if (_error is { } e && !IsValidationError(e) && !(mutator.TouchedHeartbeat && e.StartsWith(nameof(PeerGoneException), StringComparison.Ordinal))
                    && !(mpsc && mutator.ForgedUnblock && e.StartsWith(ClaimLost, StringComparison.Ordinal)))
                {
                    return $"FAIL: not a validation error: {e}; mutations: {mutator.Log}";
                }

                // A writer of the ring may forge or erase messages (slot sequences, record headers): then
                // only health is judged. A lie about positions, the descriptor, the header or the wait
                // block must never lose or reorder what is written afterwards without an error.
                // A forged CLOSED state completes the channel, as any producer may: writes then stop.
                if (!mutator.TouchedMessages && _error is null && !creator.IsCompleted)
                {
                    if (_anomaly is not null)
                    {
                        return $"FAIL: {_anomaly} without any error; mutations: {mutator.Log}";
                    }

                    if (_epochOneDelivered != EpochTwoCount)
                    {
                        return $"FAIL: {_epochOneDelivered} of {EpochTwoCount} messages arrived after the mutations stopped ({_epochOneWritten} written, {_emptyReads} empty reads), and no error; mutations: {mutator.Log}";
                    }
                }

                string attach = AttachAfresh(creator, region);
                return attach.StartsWith("FAIL", StringComparison.Ordinal) ? $"{attach}; mutations: {mutator.Log}"
                    : _error is not null ? $"{Kind(_error)}{attach}{starved}"
                    : creator.IsCompleted ? $"completed by the peer{attach}{starved}" : $"clean{attach}{starved}";
            }
            finally
            {
                if (!hung)
                {
                    victim.Dispose();
                    guard.Dispose();
                }
            }
        }

        private string StopChaos()
        {
            _chaos = false;
            return "";
        }

        /// <summary>
        /// Plays a scheduler at load 30, which can leave a thread without a core for hundreds of
        /// milliseconds: parks the consumer, waits until the producer finds the ring full, stops
        /// the mutations, and lets the consumer go on only after <c>starveConsumer</c>. Nothing is lost
        /// meanwhile: the round must end as it would without the pause.
        /// </summary>
        private string StopChaosWithTheConsumerStarved(Mutator mutator)
        {
            _parkConsumer = true;
            var waited = Stopwatch.StartNew(); // no progress to measure from: a bound on the setup only
            while (!_foundFullWhileParked && Volatile.Read(ref _error) is null && waited.Elapsed < HangBound)
            {
                Thread.Sleep(1);
            }

            bool full = _foundFullWhileParked;
            _chaos = false;
            Thread.Sleep(starveConsumer);
            _consumerResumes = true;
            return full ? $"; consumer starved {starveConsumer.TotalMilliseconds:F0} ms with the ring full; mutations: {mutator.Log}"
                : $"; the consumer was not starved with the ring full (error: {_error ?? "none"})";
        }

        /// <summary>The consumer's side of <see cref="StopChaosWithTheConsumerStarved"/>: parks until told to go on, once.</summary>
        private void ParkIfAsked()
        {
            if (_parkConsumer)
            {
                _parkConsumer = false;
                _consumerParked = true;
                var parked = Stopwatch.StartNew(); // a bound only: the round's thread lets it go on
                while (!_consumerResumes && parked.Elapsed < HangBound * 2)
                {
                    Thread.Sleep(1);
                }
            }
        }

        private const string ClaimLost = nameof(InvalidOperationException) + ": The claim is no longer valid";

        private static bool IsValidationError(string error)
            => error.StartsWith(nameof(RingCorruptedException), StringComparison.Ordinal)
            || error.StartsWith(nameof(RegionFormatException), StringComparison.Ordinal)
            || error.StartsWith(nameof(System.Threading.Channels.ChannelClosedException), StringComparison.Ordinal); // a peer may complete the channel

        private static string Kind(string error) => error.Split(':')[0];

        /// <summary>Attaches to the mutated region between guard pages: refused with a validation error, or usable.</summary>
        private string AttachAfresh(Endpoints creator, SharedRegion region)
        {
            try
            {
                var (again, guard) = GuardedAttach.Attach(region.Size, () => creator.AttachAgain(), e => e.Region);
                using (guard)
                using (again)
                {
                    again.Open();
                    for (int i = 0; i < 4; i++)
                    {
                        Timed("fresh TryWrite", () => again.TryWrite(FuzzItem.Of(2, i)));
                        Timed("fresh TryRead(1 ms)", () => again.TryRead(out _, TimeSpan.FromMilliseconds(1)));
                    }
                }

                return "";
            }
            catch (Exception e) when (IsValidationError(Describe(e)) || e is ArgumentException { ParamName: "doorbellFd" })
            {
                // The last: the wait block's doorbell kind was changed to one that needs a descriptor.
                return $", attach: {e.GetType().Name}";
            }
            catch (Exception e)
            {
                return $"FAIL: attaching afresh threw {Describe(e)}";
            }
        }

        private void Produce(Endpoints victim)
        {
            long sequence = 0;
            while (_chaos)
            {
                if (!Timed("TryWrite", () => victim.TryWrite(FuzzItem.Of(0, sequence++))) && _consumerParked)
                {
                    _foundFullWhileParked = true;
                }
            }

            var lastProgress = Stopwatch.StartNew();
            long emptyReadsAtProgress = Interlocked.Read(ref _emptyReads);
            for (long i = 0; i < EpochTwoCount;)
            {
                if (Timed("TryWrite(10 ms)", () => victim.TryWrite(FuzzItem.Of(1, i), TimeSpan.FromMilliseconds(10))))
                {
                    i++;
                    Interlocked.Exchange(ref _epochOneWritten, i);
                    lastProgress.Restart();
                    emptyReadsAtProgress = Interlocked.Read(ref _emptyReads);
                }
                else if (Volatile.Read(ref _error) is not null || _consumerEnded || lastProgress.Elapsed > HangBound
                    || (lastProgress.Elapsed > GiveUpAfter && Interlocked.Read(ref _emptyReads) - emptyReadsAtProgress >= StalledReads))
                {
                    // No room, while the consumer found nothing to read again and again (nothing was
                    // written since: the ring only emptied), or it failed or left: judged by the round.
                    // A consumer that gets no core makes no empty reads: the producer waits for it.
                    break;
                }
            }

            _done = true;
        }

        private void Consume(Endpoints victim)
        {
            long expected = 0;
            int emptyAfterDone = 0;
            var lastProgress = Stopwatch.StartNew();
            while (expected < EpochTwoCount)
            {
                ParkIfAsked();
                // Read before the read: an empty read that began after the producer finished saw all it wrote.
                bool producerDone = _done;
                Volatile.Write(ref _consumerReadStarted, Stopwatch.GetTimestamp());
                FuzzItem? read = Timed("TryRead(1 ms)", () => victim.TryRead(out FuzzItem item, TimeSpan.FromMilliseconds(1)) ? item : (FuzzItem?)null);
                Volatile.Write(ref _consumerReadStarted, 0);
                if (read is { } got)
                {
                    Interlocked.Increment(ref _consumerMessages);
                    lastProgress.Restart();
                    emptyAfterDone = 0;
                    if (got.Epoch == 1 && got.IsIntact)
                    {
                        if (got.Sequence != expected)
                        {
                            _anomaly ??= $"after the mutations stopped, message {got.Sequence} arrived where {expected} was due";
                        }

                        expected = got.Sequence + 1;
                        Interlocked.Increment(ref _epochOneDelivered);
                    }

                    continue; // epoch 0 may be anything: the mutator may forge messages, as any writer can
                }

                Interlocked.Increment(ref _emptyReads);
                if (!_chaos && lastProgress.Elapsed > TimeSpan.FromMilliseconds(100) && mpsc)
                {
                    // A position claimed by the "peer" (a tail moved forward) blocks like a dead producer's claim.
                    Timed("TryUnblock", () => victim.TryUnblock(TimeSpan.FromMilliseconds(50)));
                }

                // Counted reads, not the clock alone: a consumer preempted between an empty read and
                // this check, while the producer wrote everything, used to leave with nothing read.
                if (producerDone && ++emptyAfterDone >= StalledReads && lastProgress.Elapsed > GiveUpAfter)
                {
                    break;
                }
            }

            _consumerEnded = true; // also after an out-of-order message ended the loop early: the producer stops waiting
        }

        /// <summary>For a hang report: whether the consumer is stuck in one read or keeps reading messages.</summary>
        private string ConsumerState()
        {
            long started = Volatile.Read(ref _consumerReadStarted);
            return $"consumer: {Interlocked.Read(ref _consumerMessages)} messages read, {Interlocked.Read(ref _emptyReads)} empty reads, "
                + (_consumerEnded ? "ended" : started == 0 ? "between reads" : $"in a read for {Stopwatch.GetElapsedTime(started).TotalMilliseconds:F0} ms");
        }

        private void Guarded(string side, Action body)
        {
            try
            {
                body();
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref _error, $"{Describe(e)} ({side})", null);
                _done = true;
            }
        }

        private T Timed<T>(string what, Func<T> operation)
        {
            long start = Stopwatch.GetTimestamp();
            T result = operation();
            long took = Stopwatch.GetTimestamp() - start;
            long max;
            while (took > (max = Interlocked.Read(ref _maxOperationTicks)))
            {
                if (Interlocked.CompareExchange(ref _maxOperationTicks, took, max) == max)
                {
                    MaxOperationName = what; // racy against a longer one on the other thread: a hint for the summary only
                    break;
                }
            }

            return result;
        }

        private static string Describe(Exception e) => $"{e.GetType().Name}: {e.Message.ReplaceLineEndings(" ")}";
    }

    /// <summary>Writes random bad values into the words a peer can write.</summary>
    private sealed class Mutator(SharedRegion region, Random random)
    {
        private readonly byte* _base = region.BasePointer;
        private readonly List<string> _log = [];
        private readonly RegionPart _ring = RingOf(region);
        private readonly RegionPart _wait = region.FindPart(PartKind.WaitBlock);
        // The creator's capacity, read before any mutation: the descriptor's word is ours to forge
        // (case 2), and the endpoints keep the value they validated at attach.
        private readonly ulong _capacity = *(ulong*)(region.BasePointer + RingOf(region).Offset + RingLayout.CapacityOffset);

        public string Log => string.Join(" ", _log.TakeLast(12));

        /// <summary>Whether a slot sequence word or a record header was changed, or a record ring's head moved ahead within a lap (a forged or erased message).</summary>
        public bool TouchedMessages { get; private set; }

        /// <summary>Whether the head or a record header was changed: to an MPSC producer that can read as the consumer unblocking its claim.</summary>
        public bool ForgedUnblock { get; private set; }

        /// <summary>Whether the consumer's heartbeat was changed (it may then read as detached or stale).</summary>
        public bool TouchedHeartbeat { get; private set; }

        public void MutateOnce()
        {
            byte* ring = _base + _ring.Offset;
            ulong capacity = *(ulong*)(ring + RingLayout.CapacityOffset); // the creator's value: ours to know
            bool slots = _ring.Kind is PartKind.SpscSlots or PartKind.MpscSlots;
            ulong head = Volatile.Read(ref *(ulong*)(ring + RingLayout.HeadOffset));
            ulong tail = Volatile.Read(ref *(ulong*)(ring + RingLayout.TailOffset));
            switch (random.Next(10))
            {
                case 0:
                    Store(_base + RegionLayout.PartsOffset + (random.Next(2) * RegionLayout.PartSize) + (random.Next(4) * 8), 8, "part table");
                    break;
                case 1:
                    Store(_base + (random.Next(10) * 4), 4, "header");
                    break;
                case 2:
                    Store(ring + (random.Next(5) * 8), 8, "descriptor");
                    break;
                case 3:
                    Store(ring + RingLayout.TailOffset, 8, "tail", tail);
                    break;
                case 4:
                    ForgedUnblock = true;
                    ulong forged = Store(ring + RingLayout.HeadOffset, 8, "head", head);
                    // Within a lap ahead of the consumer, a record ring's head frees bytes not read
                    // yet: a record the producer writes there is zeroed by the consumer's next release
                    // (headers carry no lap, so nothing tells it from "not yet"), which erases
                    // messages as a forged header does. The producer reports it when its next re-read
                    // still finds its tail more than a capacity ahead, not in every interleaving
                    // (uintripc.h 2c; seed 148849962 lost 48 of 48 so in about 1 run in 8).
                    // Only a head the producers accept can: a multiple of 8 below 2^62 (CheckPosition),
                    // within the creator's capacity (a forged descriptor word marked any head).
                    TouchedMessages |= !slots && forged > head && forged - head <= _capacity
                        && forged % RingLayout.RecordAlignment == 0 && forged < RingLayout.MaxPosition;
                    break;
                case 5:
                    TouchedHeartbeat = true;
                    Store(ring + RingLayout.HeartbeatOffset, 8, "heartbeat");
                    break;
                case 6:
                case 7:
                    ulong position = (random.Next(2) == 0 ? head : tail) + (ulong)random.Next(-4, 8);
                    if (capacity is 0 || (capacity & (capacity - 1)) != 0 || capacity > (ulong)_ring.Length)
                    {
                        break; // a previous mutation hit the capacity: no way to aim at a slot
                    }

                    byte* data = ring + RingLayout.ControlSize;
                    TouchedMessages = true;
                    if (slots)
                    {
                        ulong slotSize = *(uint*)(ring + RingLayout.SlotSizeOffset);
                        if (slotSize is 0 || slotSize * capacity > (ulong)_ring.Length)
                        {
                            break;
                        }

                        Store(data + ((position & (capacity - 1)) * slotSize), 8, $"sequence@{position}", position + 1);
                    }
                    else
                    {
                        ForgedUnblock = true;
                        Store(data + (position & (capacity - 1) & ~7UL) + (ulong)(random.Next(2) * 4), 4, $"record header@{position}", 16);
                    }

                    break;
                default:
                    Store(_base + _wait.Offset + (random.Next(6) * 4), 4, "wait block", 1);
                    break;
            }
        }

        private static RegionPart RingOf(SharedRegion region) => region.Parts.First(p => p.Kind is >= PartKind.SpscSlots and <= PartKind.MpscRecords);

        /// <summary>Stores a bad value: near <paramref name="truth"/>, at a boundary, or anything; returns it.</summary>
        private ulong Store(byte* address, int width, string what, ulong truth = 0)
        {
            ulong value = random.Next(8) switch
            {
                0 => truth + 1,
                1 => truth - 1,
                2 => truth + (ulong)random.Next(-2048, 2048),
                3 => 0,
                4 => ulong.MaxValue,
                5 => RingLayout.SlotSkipped | truth,
                6 => 1UL << 62,
                _ => (ulong)random.NextInt64(),
            };
            // Release stores, as a peer's would be; the victim's threads race with them.
            if (width == 8)
            {
                Volatile.Write(ref *(ulong*)address, value);
            }
            else
            {
                Volatile.Write(ref *(uint*)address, (uint)value);
            }

            _log.Add($"{what}={value:x}");
            return value;
        }
    }

    /// <summary>A channel's consumer and producer, slot or message, behind one shape.</summary>
    private abstract class Endpoints : IDisposable
    {
        public abstract SharedRegion Region { get; }

        public abstract bool IsCompleted { get; }

        public abstract Endpoints AttachAgain();

        public abstract void Open();

        public abstract bool TryWrite(FuzzItem item);

        public abstract bool TryWrite(FuzzItem item, TimeSpan timeout);

        public abstract bool TryRead(out FuzzItem item, TimeSpan timeout);

        public abstract bool TryUnblock(TimeSpan stalledFor);

        public abstract void Dispose();
    }

    private sealed class SlotEndpoints(IpcChannel<FuzzItem> channel) : Endpoints
    {
        private IpcChannelReader<FuzzItem>? _consumer;
        private IpcChannelWriter<FuzzItem>? _producer;

        public override SharedRegion Region => channel.Region;

        public override bool IsCompleted => channel.IsCompleted;

        public override Endpoints AttachAgain() => new SlotEndpoints(IpcChannel.Attach<FuzzItem>(channel.Region.FileHandle, new IpcChannelOptions { Wait = channel.Core.Wait }, AttachTimeout));

        public override void Open()
        {
            _consumer = channel.Reader; // first: the writer finds the reader's doorbell
            _producer = channel.Writer;
        }

        public override bool TryWrite(FuzzItem item) => _producer!.TryWrite(item);

        public override bool TryWrite(FuzzItem item, TimeSpan timeout) => _producer!.TryWrite(item, timeout);

        public override bool TryRead(out FuzzItem item, TimeSpan timeout) => _consumer!.TryRead(out item, timeout);

        public override bool TryUnblock(TimeSpan stalledFor) => _consumer!.TryUnblock(stalledFor);

        public override void Dispose() => channel.Dispose(); // with its reader and writer
    }

    private sealed class MessageEndpoints(IpcMessageChannel channel) : Endpoints
    {
        private readonly byte[] _buffer = new byte[64];
        private IpcMessageReader? _consumer;
        private IpcMessageWriter? _producer;

        public override SharedRegion Region => channel.Region;

        public override bool IsCompleted => channel.IsCompleted;

        public override Endpoints AttachAgain() => new MessageEndpoints(IpcChannel.AttachMessages(channel.Region.FileHandle, new IpcChannelOptions { Wait = channel.Core.Wait }, AttachTimeout));

        public override void Open()
        {
            _consumer = channel.Reader; // first: the writer finds the reader's doorbell
            _producer = channel.Writer;
        }

        public override bool TryWrite(FuzzItem item) => _producer!.TryWrite(1, MemoryMarshal.AsBytes(new ReadOnlySpan<FuzzItem>(in item)));

        public override bool TryWrite(FuzzItem item, TimeSpan timeout) => _producer!.TryWrite(1, MemoryMarshal.AsBytes(new ReadOnlySpan<FuzzItem>(in item)), timeout);

        public override bool TryRead(out FuzzItem item, TimeSpan timeout)
        {
            item = default;
            if (!_consumer!.TryRead(out _, _buffer, out int length, timeout))
            {
                return false;
            }

            if (length == sizeof(FuzzItem))
            {
                item = MemoryMarshal.Read<FuzzItem>(_buffer);
            }

            return true;
        }

        public override bool TryUnblock(TimeSpan stalledFor) => _consumer!.TryUnblock(stalledFor);

        public override void Dispose() => channel.Dispose(); // with its reader and writer
    }
}
