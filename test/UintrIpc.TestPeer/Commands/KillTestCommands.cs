using System.Diagnostics;
using System.Globalization;
using UintrIpc.Channels;
using UintrIpc.Memory;
using UintrIpc.Rings;

namespace UintrIpc.TestPeer.Commands;

/// <summary>
/// The processes of the kill test (test/UintrIpc.Tests/Trust/KillTests.cs): producers and a
/// consumer on an MPSC slot ring ("slots", a named region) or an MPSC message channel
/// ("messages", a named channel, futex doorbell), all killed with SIGKILL at random and
/// restarted by the test. What they did is in the <see cref="KillLedger"/>.
/// </summary>
internal static class KillTestCommands
{
    /// <summary>How long a producer may go without writing a message before it gives up (measured from its last write).</summary>
    private static readonly TimeSpan ProgressTimeout = TimeSpan.FromSeconds(60);

    /// <summary>
    /// kill-produce &lt;slots|messages&gt; &lt;region name&gt; &lt;ledger path&gt; &lt;producer&gt; &lt;incarnation&gt; &lt;first sequence&gt;:
    /// writes sequences first, first + 1, ... (intent before, committed after each) until the
    /// ledger asks it to stop. Prints "ready" after its first committed message.
    /// </summary>
    [PeerCommand("kill-produce")]
    public static int Produce(string[] args)
    {
        string kind = args[0];
        int producer = Int(args[3]), incarnation = Int(args[4]);
        ulong first = ulong.Parse(args[5], CultureInfo.InvariantCulture);
        using var ledger = KillLedger.Open(args[2]);
        if (Volatile.Read(ref ledger.Intent(producer)) != first - 1)
        {
            Console.Error.WriteLine($"producer {producer}: the ledger's intent is {ledger.Intent(producer)}, expected {first - 1}");
            return 2;
        }

        using var writer = KillWriter.Open(kind, args[1]);
        var random = new Random((producer * 1_000_003) + incarnation);
        ulong sequence = first;
        for (; !ledger.StopRequested; sequence++)
        {
            // Intent first. The write's claim is a CAS (a full fence), so the intent is stored before
            // anything of the message can be seen in the ring.
            Volatile.Write(ref ledger.Intent(producer), sequence);
            long lastProgress = Stopwatch.GetTimestamp();
            ulong salt = (ulong)random.NextInt64();
            while (!writer.TryWrite(producer, incarnation, sequence, salt, random))
            {
                if (Stopwatch.GetElapsedTime(lastProgress) > ProgressTimeout)
                {
                    Console.Error.WriteLine($"producer {producer}: no room for sequence {sequence} within {ProgressTimeout.TotalSeconds} s");
                    return 3;
                }
            }

            // Release: the message is in the ring before it counts as committed.
            Volatile.Write(ref ledger.Committed(producer), sequence);
            if (sequence == first)
            {
                Console.WriteLine("ready");
            }
        }

        Console.WriteLine($"stopped: producer {producer} incarnation {incarnation} wrote {sequence - first} messages");
        return 0;
    }

    /// <summary>
    /// kill-consume &lt;slots|messages&gt; &lt;region name&gt; &lt;ledger path&gt; &lt;incarnation&gt;: reads one message at a
    /// time in place, checks it and records it in the ledger before the ring releases it; a claim
    /// of a killed producer is skipped as soon as its death is known (TrySkipDeadClaim, uintripc.h
    /// 2f; the message channel's reader does it before it parks); exits when the ledger asks to
    /// drain and the ring is empty. Exits 3 on a broken message, a duplicate or a message out of order.
    /// </summary>
    [PeerCommand("kill-consume")]
    public static int Consume(string[] args)
    {
        string kind = args[0];
        int incarnation = Int(args[3]);
        using var ledger = KillLedger.Open(args[2]);
        using var reader = KillReader.Open(kind, args[1]);
        ulong startHead = reader.Head;
        var account = new KillAccount(ledger, startHead);
        ledger.Append(KillLedger.EventKind.ConsumerStart, (ulong)incarnation, startHead);
        Console.WriteLine("ready");
        long delivered = 0;
        while (true)
        {
            int n = reader.ReadOne(account);
            if (account.Violation is not null)
            {
                Console.Error.WriteLine($"consumer {incarnation}: {account.Violation}");
                return 3;
            }

            if (n > 0)
            {
                delivered += n;
                continue;
            }

            if (ledger.DrainRequested && reader.Head == reader.Tail)
            {
                Console.WriteLine($"drained: consumer {incarnation} delivered {delivered} messages");
                return 0;
            }

            ulong head = reader.Head;
            if (reader.TrySkipDeadClaim())
            {
                ledger.Append(KillLedger.EventKind.Unblock, 0, head);
            }
        }
    }

    private static int Int(string s) => int.Parse(s, CultureInfo.InvariantCulture);

    /// <summary>The consumer's accounting of one message (see <see cref="KillLedger"/>).</summary>
    private sealed class KillAccount(KillLedger ledger, ulong startHead)
    {
        private bool _first = true;

        public string? Violation { get; private set; }

        public void Accept(ulong position, bool intact, int producer, ulong sequence)
        {
            if (Violation is not null)
            {
                return;
            }

            if (!intact || (uint)producer >= KillLedger.MaxProducers)
            {
                Violation = $"the message at position {position} is broken (checksum or producer {producer} wrong)";
                return;
            }

            ulong next = Volatile.Read(ref ledger.Next(producer));
            ulong identity = KillLedger.Identity(producer, sequence);
            if (sequence <= next)
            {
                // The one duplicate allowed: the message our predecessor handled last, at our start
                // head, which it had not released when it was killed.
                if (_first && position == startHead && Volatile.Read(ref ledger.LastPosition) == position && Volatile.Read(ref ledger.LastIdentity) == identity)
                {
                    ledger.Append(KillLedger.EventKind.Redelivery, (ulong)producer, sequence, position);
                    _first = false;
                    return;
                }

                Violation = $"producer {producer} sequence {sequence} at position {position} is a duplicate or out of order (sequences up to {next} were delivered)";
                return;
            }

            if (sequence > next + 1)
            {
                ledger.Append(KillLedger.EventKind.Gap, (ulong)producer, next + 1, sequence - 1);
            }

            // Identity before next: a consumer killed in between gets the message again with
            // sequence == next + 1, an ordinary delivery.
            Volatile.Write(ref ledger.LastPosition, position);
            Volatile.Write(ref ledger.LastIdentity, identity);
            Volatile.Write(ref ledger.Next(producer), sequence);
            _first = false;
        }
    }

    /// <summary>The producer's end: an MPSC slot ring or a message channel producer.</summary>
    private abstract class KillWriter : IDisposable
    {
        public static KillWriter Open(string kind, string name) => kind switch
        {
            "slots" => new SlotWriter(name),
            "messages" => new MessageWriter(name),
            _ => throw new ArgumentException($"unknown kind '{kind}'", nameof(kind)),
        };

        public abstract bool TryWrite(int producer, int incarnation, ulong sequence, ulong salt, Random random);

        public abstract void Dispose();
    }

    private sealed class SlotWriter : KillWriter
    {
        private readonly SharedRegion _region;
        private readonly SlotRing<KillSlot> _ring;

        public SlotWriter(string name)
        {
            _region = SharedRegion.OpenNamed(name, TimeSpan.FromSeconds(10));
            _ring = new SlotRing<KillSlot>(_region);
        }

        public override bool TryWrite(int producer, int incarnation, ulong sequence, ulong salt, Random random)
        {
            if (_ring.TryWrite(KillMessage.Slot(producer, incarnation, sequence, salt)))
            {
                return true;
            }

            Thread.Yield();
            return false;
        }

        public override void Dispose()
        {
            _ring.Dispose(); // a producer's: ends its entry in the producer table
            _region.Dispose();
        }
    }

    private sealed class MessageWriter : KillWriter
    {
        private readonly IpcMessageChannel _channel;
        private readonly IpcMessageWriter _producer;
        private readonly byte[] _buffer;

        public MessageWriter(string name)
        {
            // Consumers are killed and replaced here by design: at load 30 a replacement took more
            // than the default 5 s to start beating, and the producers, rightly (uintripc.h section
            // 4), called their reader gone (UINTRIPC_KILL_SEED=675073086). The run's own bound (no
            // progress for ProgressTimeout) judges a consumer that does not come back.
            _channel = IpcChannel.OpenNamedMessages(name, new IpcChannelOptions { PeerTimeout = ProgressTimeout }, TimeSpan.FromSeconds(10));
            _producer = _channel.Writer;
            _buffer = new byte[_producer.MaxMessageLength];
        }

        public override bool TryWrite(int producer, int incarnation, ulong sequence, ulong salt, Random random)
        {
            int length = KillMessage.Record(_buffer, random.Next(KillMessage.MinRecordLength, _buffer.Length + 1), producer, incarnation, sequence, salt);
            return _producer.TryWrite(producer, _buffer.AsSpan(0, length), TimeSpan.FromMilliseconds(100));
        }

        public override void Dispose() => _channel.Dispose();
    }

    /// <summary>The consumer's end: reads one message in place and hands it to the account.</summary>
    private abstract class KillReader : IDisposable
    {
        /// <summary>The shared consumer position (while a message is handled: where it, or padding before it, starts).</summary>
        public abstract ulong Head { get; }

        public abstract ulong Tail { get; }

        public static KillReader Open(string kind, string name) => kind switch
        {
            "slots" => new SlotReader(name),
            "messages" => new MessageReader(name),
            _ => throw new ArgumentException($"unknown kind '{kind}'", nameof(kind)),
        };

        public abstract int ReadOne(KillAccount account);

        /// <summary>Skips a dead producer's claim at the head (the slot ring); the message channel's reader does it itself before it parks.</summary>
        public abstract bool TrySkipDeadClaim();

        public abstract void Dispose();
    }

    private sealed class SlotReader : KillReader
    {
        private readonly SharedRegion _region;
        private readonly SlotRing<KillSlot> _ring;
        private SpinWait _idle;

        public SlotReader(string name)
        {
            _region = SharedRegion.OpenNamed(name, TimeSpan.FromSeconds(10));
            _ring = new SlotRing<KillSlot>(_region);
        }

        public override ulong Head => (ulong)_ring.ConsumerPosition;

        public override ulong Tail => (ulong)_ring.ProducerPosition;

        public override int ReadOne(KillAccount account)
        {
            var handler = new Handler(account, _ring);
            int n = _ring.Drain(ref handler, 1);
            if (n == 0)
            {
                _idle.SpinOnce(); // yields, then sleeps 1 ms now and then
            }
            else
            {
                _idle.Reset();
            }

            return n;
        }

        public override bool TrySkipDeadClaim() => _ring.TrySkipDeadClaim();

        public override void Dispose()
        {
            _ring.Dispose(); // a producer's: ends its entry in the producer table
            _region.Dispose();
        }

        private readonly struct Handler(KillAccount account, SlotRing<KillSlot> ring) : ISlotHandler<KillSlot>
        {
            // The shared head still names this element's position: the drain releases it afterwards.
            public void Handle(in KillSlot item)
                => account.Accept((ulong)ring.ConsumerPosition, KillMessage.IsIntact(item), item.Producer, item.Sequence);
        }
    }

    private sealed class MessageReader : KillReader
    {
        private readonly IpcMessageChannel _channel;
        private readonly IpcMessageReader _consumer;
        private readonly RecordRing _positions; // read-only use: the shared head and tail words

        public MessageReader(string name)
        {
            _channel = IpcChannel.OpenNamedMessages(name, initTimeout: TimeSpan.FromSeconds(10));
            _consumer = _channel.Reader;
            _positions = new RecordRing(_channel.Region);
        }

        public override ulong Head => (ulong)_positions.ConsumerPosition;

        public override ulong Tail => (ulong)_positions.ProducerPosition;

        public override int ReadOne(KillAccount account)
        {
            var handler = new Handler(account, _positions);
            return _consumer.Read(ref handler, 1, TimeSpan.FromMilliseconds(50));
        }

        public override bool TrySkipDeadClaim() => false; // done inside the read, before it parks

        public override void Dispose() => _channel.Dispose();

        private readonly struct Handler(KillAccount account, RecordRing positions) : IRecordHandler
        {
            public void Handle(int type, ReadOnlySpan<byte> payload)
            {
                bool intact = KillMessage.TryReadRecord(payload, out int producer, out ulong sequence) && type == producer;
                account.Accept((ulong)positions.ConsumerPosition, intact, producer, sequence);
            }
        }
    }
}
