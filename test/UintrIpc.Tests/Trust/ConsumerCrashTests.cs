using UintrIpc.Channels;
using UintrIpc.Memory;
using UintrIpc.Rings;
using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.Trust;

/// <summary>
/// A record consumer killed while it zeroes what it consumed (uintripc.h section 2e), made
/// deterministic: the child (TestPeer record-consumer-crash) makes a page in the middle of the
/// batch read-only in its own mapping, so its release faults at the first store there. Its
/// successor resumes at the published head, which the dead consumer never moved.
/// </summary>
/// <remarks>
/// Zeroed front to back, the dead consumer left a zero header with the rest of the batch behind
/// it: an SPSC successor then waits forever for that header, and an MPSC successor's unblock scans
/// for the next non-zero word and takes payload bytes for a header. The second record's payload
/// is made of fake headers (type 7) so that such a misreading delivers messages nobody wrote.
/// </remarks>
[Collection(CrossProcessCollection.Name)]
public sealed class ConsumerCrashTests(ITestOutputHelper output) : IDisposable
{
    private const int Capacity = 1 << 16;
    private const int MaxMessage = Capacity / 8;
    private readonly ShmNames _names = new();

    [Theory]
    [InlineData("spsc")]
    [InlineData("mpsc")]
    public void The_successor_of_a_consumer_killed_while_zeroing_reads_on_without_replay_or_garbage(string ring)
    {
        string name = _names.New("crash");
        bool mpsc = ring == "mpsc";
        using var region = SharedRegion.CreateNamed(name, 0, mpsc ? RecordRing.Part(Capacity, MaxMessage, multipleProducers: true) : RecordRing.Part(Capacity, MaxMessage));
        using var producer = new Ring(region, mpsc);
        Assert.True(producer.TryWrite(1, new byte[64]));
        Assert.True(producer.TryWrite(2, FakeHeaders(MaxMessage)));

        using (var child = PeerProcess.Start(output, "record-consumer-crash", ring, name))
        {
            int code = child.WaitForExit(TimeSpan.FromMinutes(1));
            output.WriteLine($"child exit {code}");
            Assert.Contains("protected payload bytes", child.StandardOutput, StringComparison.Ordinal);
            Assert.True(code is not (0 or 1), $"the consumer was to die at its release (exit {code}): {child.StandardOutput}");
        }

        using var successor = new Ring(region, mpsc);
        var received = new List<(int Type, int Length)>();
        successor.ReadAll(received);
        Assert.True(producer.TryWrite(3, new byte[32]));
        successor.ReadAll(received);
        Assert.Equal([(3, 32)], received);
        Assert.Equal(producer.ProducerPosition, successor.ConsumerPosition);
    }

    /// <inheritdoc />
    public void Dispose() => _names.Dispose();

    /// <summary>A payload that reads as a run of 16-byte records of type 7 wherever it is taken for a header.</summary>
    private static byte[] FakeHeaders(int length)
    {
        var payload = new byte[length];
        for (int i = 0; i + 8 <= length; i += 16)
        {
            BitConverter.TryWriteBytes(payload.AsSpan(i), 16);
            BitConverter.TryWriteBytes(payload.AsSpan(i + 4), 7);
        }

        return payload;
    }

    /// <summary>An SPSC or MPSC record ring behind one shape.</summary>
    private sealed class Ring(SharedRegion region, bool mpsc) : IDisposable
    {
        private readonly RecordRing? _mpsc = mpsc ? new RecordRing(region) : null;
        private readonly RecordRing? _spsc = mpsc ? null : new RecordRing(region);

        public long ProducerPosition => _mpsc?.ProducerPosition ?? _spsc!.ProducerPosition;

        public long ConsumerPosition => _mpsc?.ConsumerPosition ?? _spsc!.ConsumerPosition;

        public bool TryWrite(int type, ReadOnlySpan<byte> payload) => _mpsc?.TryWrite(type, payload) ?? _spsc!.TryWrite(type, payload);

        /// <summary>Reads what is there; an MPSC consumer also unblocks (at once) a record that looks claimed and abandoned, as a successor would.</summary>
        public void ReadAll(List<(int Type, int Length)> received)
        {
            var handler = new Collector(received);
            for (int attempt = 0; attempt < 4; attempt++)
            {
                int read = _mpsc?.Read(ref handler) ?? _spsc!.Read(ref handler);
                if (read == 0 && !(_mpsc?.TryUnblock(TimeSpan.Zero) ?? false))
                {
                    return;
                }
            }
        }

        public void Dispose()
        {
            _mpsc?.Dispose();
            _spsc?.Dispose();
        }
    }

    private readonly struct Collector(List<(int Type, int Length)> received) : IRecordHandler
    {
        public void Handle(int type, ReadOnlySpan<byte> payload) => received.Add((type, payload.Length));
    }
}
