using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using UintrIpc.Channels;
using UintrIpc.Memory;
using UintrIpc.Metrics;
using UintrIpc.Rings;
using UintrIpc.Signaling;
using UintrIpc.Tests.Infrastructure;
using UintrIpc.Tests.Layout;

namespace UintrIpc.Tests.Channels;

/// <summary>
/// Message checksums (IpcChannelOptions.Checksums, uintripc.h 4a): where they live in shared
/// memory, that every read and write form produces and verifies them, what a corrupted byte
/// does (an error naming the message checksum and its position, the message dropped and
/// counted, the next one delivered), that attachers follow the creator and refuse what they do
/// not understand, and that a C peer built from the header alone computes the same values.
/// In the serial collection: the error count is process-wide and other tests raise the same error.
/// </summary>
[Collection(CrossProcessCollection.Name)]
public sealed class ChannelChecksumTests : IDisposable
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan Short = TimeSpan.FromMilliseconds(20);
    private readonly ShmNames _names = new();
    private readonly DirectoryInfo _temp = Directory.CreateTempSubdirectory("uintripc-checksum-");

    public enum SlotRead { TryRead, TryReadSpan, Drain, TryReadWithTimeout, ReadAsync, ReadAllAsync }

    public enum MessageRead { TryReadMessage, TryReadInto, Handler, HandlerWithTimeout, TryReadIntoWithTimeout, ReadAsyncMemory, ReadAllAsync, Batch }

    public enum Flip { MessageByte, Checksum, Type, Length }

    public static TheoryData<SlotRead, bool> SlotCorruptions => Cross(Enum.GetValues<SlotRead>(), [false, true]);

    public static TheoryData<Flip, MessageRead, bool> MessageCorruptions
    {
        get
        {
            var data = new TheoryData<Flip, MessageRead, bool>();
            foreach (Flip flip in Enum.GetValues<Flip>())
            {
                foreach (MessageRead read in Enum.GetValues<MessageRead>())
                {
                    data.Add(flip, read, false);
                    data.Add(flip, read, true);
                }
            }

            return data;
        }
    }

    public void Dispose()
    {
        _names.Dispose();
        _temp.Delete(recursive: true);
    }

    [Fact]
    public unsafe void The_checksum_is_CRC32C_as_the_header_specifies()
    {
        Assert.Equal(0xE3069283u, Compute("123456789"u8)); // the CRC-32C check value
        var random = new Random(7);
        byte[] bytes = new byte[80];
        random.NextBytes(bytes);
        for (int offset = 0; offset < 8; offset++)
        {
            for (int length = 0; length + offset <= bytes.Length; length++)
            {
                var span = bytes.AsSpan(offset, length);
                Assert.Equal(~Reference(uint.MaxValue, span), Compute(span));
                byte[] header = [.. BitConverter.GetBytes(8 + length + 4), .. BitConverter.GetBytes(length * 3)];
                fixed (byte* p = span)
                {
                    Assert.Equal(~Reference(Reference(uint.MaxValue, header), span), MessageChecksum.ComputeMessage(8 + length + 4, length * 3, p, (nuint)length));
                }
            }
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public unsafe void A_slot_channel_keeps_each_elements_checksum_in_the_last_four_bytes_of_its_slot(bool multipleWriters)
    {
        using var channel = IpcChannel.CreateBounded<long>(new IpcChannelOptions { Capacity = 8, MultipleWriters = multipleWriters, Checksums = true });
        using var plain = IpcChannel.CreateBounded<long>(new IpcChannelOptions { Capacity = 8, MultipleWriters = multipleWriters });
        Assert.Equal(24, channel.Core.Geometry.SlotSize); // align8(8 + 8 + 4)
        Assert.Equal(16, plain.Core.Geometry.SlotSize);
        Assert.Equal(8, channel.Core.Geometry.ElementSize);

        Assert.True(channel.Writer.TryWrite(-5));
        Assert.Equal(2, channel.Writer.TryWrite([6L, long.MaxValue]));
        for (int position = 0; position < 3; position++)
        {
            byte* slot = Slot(channel, position);
            Assert.Equal((ulong)position + 1, *(ulong*)slot);
            Assert.Equal(~Reference(uint.MaxValue, new ReadOnlySpan<byte>(slot + 8, 8)), *(uint*)(slot + 20));
        }

        Assert.True(channel.Reader.TryRead(out long first));
        Assert.Equal(-5, first);
        long[] rest = new long[4];
        Assert.Equal(2, channel.Reader.TryRead(rest));
        Assert.Equal([6L, long.MaxValue], rest[..2]);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Every_write_and_read_form_of_a_slot_channel_carries_checksums(bool multipleWriters)
    {
        const int Count = 600;
        using var channel = IpcChannel.CreateBounded<long>(new IpcChannelOptions { Capacity = 16, MultipleWriters = multipleWriters, Doorbell = DoorbellKind.Futex, Checksums = true });
        var reader = channel.Reader;
        var writer = channel.Writer;
        var produce = Task.Run(async () =>
        {
            for (long value = 0; value < Count;)
            {
                switch (value % 4)
                {
                    case 0:
                        if (writer.TryWrite(value))
                        {
                            value++;
                        }
                        else
                        {
                            Thread.Yield();
                        }

                        break;
                    case 1:
                        long[] three = [value, value + 1, value + 2];
                        value += writer.TryWrite(three.AsSpan(0, (int)Math.Min(3, Count - value)));
                        break;
                    case 2:
                        Assert.True(writer.TryWrite(value++, Long));
                        break;
                    default:
                        await writer.WriteAsync(value++);
                        break;
                }
            }

            writer.Complete();
        });

        long expected = 0;
        var sum = new Collect(new long[Count]);
        long[] batch = new long[5];
        while (expected < Count - 20)
        {
            switch (expected % 5)
            {
                case 0:
                    if (reader.TryRead(out long one))
                    {
                        Assert.Equal(expected++, one);
                    }

                    break;
                case 1:
                    int n = reader.TryRead(batch);
                    for (int i = 0; i < n; i++)
                    {
                        Assert.Equal(expected++, batch[i]);
                    }

                    break;
                case 2:
                    sum.Count = 0;
                    int drained = reader.Drain(ref sum, 3);
                    Assert.Equal(drained, sum.Count);
                    for (int i = 0; i < drained; i++)
                    {
                        Assert.Equal(expected++, sum.Values[i]);
                    }

                    break;
                case 3:
                    Assert.True(reader.TryRead(out long timed, Long));
                    Assert.Equal(expected++, timed);
                    break;
                default:
                    Assert.Equal(expected++, await reader.ReadAsync());
                    break;
            }
        }

        await foreach (long value in reader.ReadAllAsync().WithCancellation(new CancellationTokenSource(Long).Token))
        {
            Assert.Equal(expected++, value);
        }

        Assert.Equal(Count, expected);
        await produce;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Every_write_and_read_form_of_a_message_channel_carries_checksums(bool multipleWriters)
    {
        const int Count = 400;
        using var channel = IpcChannel.CreateMessages(new IpcChannelOptions { BufferSize = 1024, MultipleWriters = multipleWriters, Doorbell = DoorbellKind.Futex, Checksums = true });
        var reader = channel.Reader;
        var writer = channel.Writer;
        // The ring's longest payload (1024 / 8) holds the longest message and its checksum.
        Assert.Equal(1024 / 8 - 4, channel.MaxMessageLength);
        Assert.Equal(channel.MaxMessageLength, reader.MaxMessageLength);
        Assert.Equal(channel.MaxMessageLength, writer.MaxMessageLength);
        Assert.Throws<ArgumentOutOfRangeException>(() => writer.TryWrite(1, new byte[channel.MaxMessageLength + 1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => writer.TryClaim(1, channel.MaxMessageLength + 1, out _));

        var produce = Task.Run(async () =>
        {
            for (int i = 0; i < Count;)
            {
                byte[] message = Message(i, channel.MaxMessageLength);
                bool written;
                switch (i % 4)
                {
                    case 0:
                        written = writer.TryWrite(i, message);
                        break;
                    case 1:
                        written = writer.TryClaim(i, message.Length, out MessageClaim claim);
                        if (written)
                        {
                            Assert.Equal(message.Length, claim.Length);
                            Assert.Equal(message.Length, claim.Payload.Length);
                            message.CopyTo(claim.Payload);
                            claim.Commit();
                        }

                        break;
                    case 2:
                        written = writer.TryWrite(i, message, Long);
                        break;
                    default:
                        await writer.WriteAsync(new IpcMessage(i, message));
                        written = true;
                        break;
                }

                if (written)
                {
                    i++;
                }
                else
                {
                    Thread.Yield();
                }
            }

            writer.Complete();
        });

        int expected = 0;
        byte[] buffer = new byte[channel.MaxMessageLength];
        var handler = new CheckMessages();
        while (expected < Count - 20)
        {
            switch (expected % 6)
            {
                case 0:
                    if (reader.TryRead(out IpcMessage copied))
                    {
                        AssertMessage(expected++, copied.Type, copied.Payload.Span, channel.MaxMessageLength);
                    }

                    break;
                case 1:
                    if (reader.TryRead(out int type, buffer, out int length))
                    {
                        AssertMessage(expected++, type, buffer.AsSpan(0, length), channel.MaxMessageLength);
                    }

                    break;
                case 2:
                    handler.Next = expected;
                    expected += reader.Read(ref handler, 3);
                    Assert.Equal(expected, handler.Next);
                    break;
                case 3:
                    handler.Next = expected;
                    expected += reader.Read(ref handler, 2, Long);
                    Assert.Equal(expected, handler.Next);
                    break;
                case 4:
                    Assert.True(reader.TryRead(out int timedType, buffer, out int timedLength, Long));
                    AssertMessage(expected++, timedType, buffer.AsSpan(0, timedLength), channel.MaxMessageLength);
                    break;
                default:
                    IpcMessage into = await reader.ReadAsync(buffer);
                    AssertMessage(expected++, into.Type, into.Payload.Span, channel.MaxMessageLength);
                    break;
            }
        }

        IpcMessage next = await reader.ReadAsync();
        AssertMessage(expected++, next.Type, next.Payload.Span, channel.MaxMessageLength);
        await foreach (IpcMessage message in reader.ReadAllAsync().WithCancellation(new CancellationTokenSource(Long).Token))
        {
            AssertMessage(expected++, message.Type, message.Payload.Span, channel.MaxMessageLength);
        }

        Assert.Equal(Count, expected);
        await produce;
    }

    [Fact]
    public unsafe void A_message_record_holds_the_message_then_its_checksum_and_a_small_buffer_leaves_it_in_the_ring()
    {
        using var channel = IpcChannel.CreateMessages(new IpcChannelOptions { BufferSize = 256, MaxMessageLength = 20, Checksums = true });
        Assert.Equal(20, channel.MaxMessageLength);
        Assert.True(channel.Writer.TryWrite(9, "abcdefghijklm"u8)); // 13 bytes: a record of 8 + 13 + 4 = 25, 32 in the ring
        Assert.True(channel.Writer.TryWrite(2, ReadOnlySpan<byte>.Empty));
        byte* record = Record(channel, 0);
        Assert.Equal(25, *(int*)record);
        Assert.Equal(9, *(int*)(record + 4));
        Assert.Equal(~Reference(Reference(uint.MaxValue, [25, 0, 0, 0, 9, 0, 0, 0]), "abcdefghijklm"u8), Unsafe.ReadUnaligned<uint>(record + 8 + 13));
        Assert.Equal(12, *(int*)Record(channel, 32)); // an empty message still has its checksum

        byte[] small = new byte[12];
        Assert.Throws<ArgumentException>(() => channel.Reader.TryRead(out _, small, out _));
        byte[] buffer = new byte[20];
        Assert.True(channel.Reader.TryRead(out int type, buffer, out int length));
        Assert.Equal((9, 13), (type, length));
        Assert.Equal("abcdefghijklm"u8.ToArray(), buffer[..13]);
        Assert.True(channel.Reader.TryRead(out type, buffer, out length));
        Assert.Equal((2, 0), (type, length));
        Assert.Throws<ArgumentOutOfRangeException>(() => IpcChannel.CreateMessages(new IpcChannelOptions { BufferSize = 256, MaxMessageLength = 29, Checksums = true }));
    }

    [Theory]
    [MemberData(nameof(SlotCorruptions))]
    public async Task A_corrupted_element_is_reported_at_its_position_dropped_and_counted(SlotRead read, bool multipleWriters)
    {
        using var channel = IpcChannel.CreateBounded<long>(new IpcChannelOptions { Capacity = 8, MultipleWriters = multipleWriters, Doorbell = DoorbellKind.Futex, Checksums = true });
        Assert.Equal(4, channel.Writer.TryWrite([10L, 11, 12, 13]));
        Assert.True(channel.Reader.TryRead(out long first));
        Assert.Equal(10, first);
        Xor(channel, 1, 8 + 3, 0x40); // a bit of the element at position 1 flips in shared memory

        long errors = ErrorCounts.RingCorrupted;
        var e = await Assert.ThrowsAsync<RingCorruptedException>(() => ReadOne(channel.Reader, read));
        Assert.Equal("message checksum", e.What);
        Assert.Contains("message checksum", e.Message, StringComparison.Ordinal);
        Assert.Equal(1, e.Position);
        Assert.Equal(errors + 1, ErrorCounts.RingCorrupted);

        // Dropped, not delivered again: the next element comes out.
        Assert.True(channel.Reader.TryRead(out long next));
        Assert.Equal(12, next);
        Xor(channel, 3, 20, 1); // the stored checksum itself
        Assert.Equal(3, Assert.Throws<RingCorruptedException>(() => channel.Reader.TryRead(out _)).Position);
        Assert.True(channel.Writer.TryWrite(14));
        Assert.True(channel.Reader.TryRead(out next));
        Assert.Equal(14, next);
    }

    [Theory]
    [MemberData(nameof(MessageCorruptions))]
    public async Task A_corrupted_message_is_reported_at_its_position_dropped_and_counted(Flip flip, MessageRead read, bool multipleWriters)
    {
        using var channel = IpcChannel.CreateMessages(new IpcChannelOptions { BufferSize = 512, MultipleWriters = multipleWriters, Doorbell = DoorbellKind.Futex, Checksums = true });
        for (int i = 0; i < 3; i++)
        {
            Assert.True(channel.Writer.TryWrite(3, BitConverter.GetBytes(100L + i))); // records of 8 + 8 + 4 = 20 bytes at 0, 24, 48
        }

        Assert.True(channel.Reader.TryRead(out IpcMessage first));
        Assert.Equal(100, BitConverter.ToInt64(first.Payload.Span));
        Corrupt(channel, 24, flip);

        long errors = ErrorCounts.RingCorrupted;
        var e = await Assert.ThrowsAsync<RingCorruptedException>(() => ReadOne(channel.Reader, read));
        Assert.Equal("message checksum", e.What);
        Assert.Contains("message checksum", e.Message, StringComparison.Ordinal);
        Assert.Equal(24, e.Position);
        Assert.Equal(errors + 1, ErrorCounts.RingCorrupted);

        Assert.True(channel.Reader.TryRead(out IpcMessage next));
        Assert.Equal((3, 102L), (next.Type, BitConverter.ToInt64(next.Payload.Span)));
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public unsafe void An_attacher_follows_the_creators_choice(bool messages, bool checksums)
    {
        string name = _names.New("ck");
        var options = new IpcChannelOptions { Name = name, Capacity = 8, BufferSize = 256, Checksums = checksums };
        if (messages)
        {
            using var created = IpcChannel.CreateMessages(options);
            using var opened = IpcChannel.OpenNamedMessages(name);
            Assert.Equal(checksums, opened.Core.Checksums);
            Assert.Equal(created.MaxMessageLength, opened.MaxMessageLength);
            Assert.True(opened.Writer.TryWrite(4, "hello"u8));
            Assert.Equal(8 + 5 + (checksums ? 4 : 0), *(int*)Record(created, 0));
            Assert.True(created.Reader.TryRead(out IpcMessage message));
            Assert.Equal("hello"u8.ToArray(), message.Payload.ToArray());
        }
        else
        {
            using var created = IpcChannel.CreateBounded<long>(options);
            using var opened = IpcChannel.OpenNamed<long>(name);
            Assert.Equal(checksums, opened.Core.Checksums);
            Assert.True(opened.Writer.TryWrite(77));
            if (checksums)
            {
                Assert.Equal(~Reference(uint.MaxValue, BitConverter.GetBytes(77L)), *(uint*)(Slot(created, 0) + 20));
            }

            Assert.True(created.Reader.TryRead(out long value));
            Assert.Equal(77, value);
        }
    }

    [Theory]
    [InlineData(false, 0x2u)]
    [InlineData(true, 0x3u)]
    [InlineData(true, 0x80000000u)]
    public void Unknown_channel_flags_are_refused_naming_the_field(bool messages, uint flags)
    {
        string name = _names.New("ck");
        var options = new IpcChannelOptions { Name = name, Capacity = 8, BufferSize = 256, Checksums = true };
        using IDisposable created = messages ? IpcChannel.CreateMessages(options) : (IDisposable)IpcChannel.CreateBounded<long>(options);
        SharedRegion region = messages ? ((IpcMessageChannel)created).Region : ((IpcChannel<long>)created).Region;
        SetChannelFlags(region, flags);

        var e = Assert.Throws<RegionFormatException>(() => Open(messages, name));
        Assert.Equal("wait block channel flags", e.Field);
        Assert.Contains(flags.ToString("x8", CultureInfo.InvariantCulture), e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_checksum_flag_that_does_not_fit_the_ring_is_refused()
    {
        // Slots of long without checksums are 16 bytes; with them 24: the flag must match.
        string plainSlots = _names.New("ck");
        using var plain = IpcChannel.CreateBounded<long>(new IpcChannelOptions { Name = plainSlots, Capacity = 8 });
        SetChannelFlags(plain.Region, WaitBlockLayout.ChannelChecksums);
        Assert.Equal("ring slot size", Assert.Throws<RegionFormatException>(() => IpcChannel.OpenNamed<long>(plainSlots)).Field);

        string checkedSlots = _names.New("ck");
        using var withChecksums = IpcChannel.CreateBounded<long>(new IpcChannelOptions { Name = checkedSlots, Capacity = 8, Checksums = true });
        SetChannelFlags(withChecksums.Region, 0);
        Assert.Equal("ring slot size", Assert.Throws<RegionFormatException>(() => IpcChannel.OpenNamed<long>(checkedSlots)).Field);

        // A message ring whose longest payload cannot hold a checksum.
        string tiny = _names.New("ck");
        using var messages = IpcChannel.CreateMessages(new IpcChannelOptions { Name = tiny, BufferSize = 256, MaxMessageLength = 3 });
        SetChannelFlags(messages.Region, WaitBlockLayout.ChannelChecksums);
        Assert.Equal("ring max message length", Assert.Throws<RegionFormatException>(() => IpcChannel.OpenNamedMessages(tiny)).Field);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Checked_writes_and_reads_allocate_nothing_per_message(bool multipleWriters)
    {
        using var slots = IpcChannel.CreateBounded<long>(new IpcChannelOptions { Capacity = 64, MultipleWriters = multipleWriters, Checksums = true });
        using var messages = IpcChannel.CreateMessages(new IpcChannelOptions { BufferSize = 4096, MultipleWriters = multipleWriters, Checksums = true });
        long[] batch = new long[8];
        byte[] payload = new byte[40];
        byte[] buffer = new byte[messages.MaxMessageLength];
        var collect = new Collect(new long[8]);
        var count = new CheckNothing();
        int failures = 0; // counted, not asserted, inside the measured part: assertions allocate
        void Round()
        {
            for (int i = 0; i < 8; i++)
            {
                failures += slots.Writer.TryWrite(i) ? 0 : 1;
            }

            failures += slots.Writer.TryWrite(batch) == 8 ? 0 : 1;
            failures += slots.Reader.TryRead(out long _) ? 0 : 1;
            failures += slots.Reader.TryRead(batch.AsSpan(0, 7)) == 7 ? 0 : 1;
            collect.Count = 0;
            failures += slots.Reader.Drain(ref collect) == 8 ? 0 : 1;

            failures += messages.Writer.TryWrite(1, payload) ? 0 : 1;
            if (messages.Writer.TryClaim(2, payload.Length, out MessageClaim claim))
            {
                claim.Commit();
            }
            else
            {
                failures++;
            }

            failures += messages.Reader.TryRead(out _, buffer, out _) ? 0 : 1;
            failures += messages.Reader.Read(ref count) == 1 ? 0 : 1;
        }

        for (int i = 0; i < 1000; i++)
        {
            Round(); // warm-up: tiering and the producer registrations (MPSC)
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            Round();
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, failures);
        Assert.Equal(0, allocated);
    }

    [Fact]
    public unsafe void A_C_peer_built_from_the_header_computes_the_checksums_this_side_verifies()
    {
        string[] programs = CompileChecksumDump();
        using var slots = IpcChannel.CreateBounded<long>(new IpcChannelOptions { Capacity = 8, Checksums = true });
        using var messages = IpcChannel.CreateMessages(new IpcChannelOptions { BufferSize = 512, Checksums = true });

        // Ours, verified by C: the checksums the writers stored for what they wrote.
        long[] values = [0, 1, -1, long.MinValue, 0x0123456789abcdef];
        Assert.Equal(values.Length, slots.Writer.TryWrite(values));
        byte[][] bodies = [[], [0x42], [.. "0123456789abcdef0123456789"u8]];
        for (int i = 0; i < bodies.Length; i++)
        {
            Assert.True(messages.Writer.TryWrite(i * 1000, bodies[i]));
        }

        var arguments = new List<string>();
        var stored = new List<uint>();
        for (int i = 0; i < values.Length; i++)
        {
            arguments.Add("s:" + Convert.ToHexString(BitConverter.GetBytes(values[i])));
            stored.Add(*(uint*)(Slot(slots, i) + 20));
        }

        long position = 0;
        for (int i = 0; i < bodies.Length; i++)
        {
            byte* record = Record(messages, position);
            arguments.Add($"m:{i * 1000}:{Convert.ToHexString(bodies[i])}");
            stored.Add(Unsafe.ReadUnaligned<uint>(record + 8 + bodies[i].Length));
            position += (*(int*)record + 7) & ~7;
        }

        foreach (string program in programs)
        {
            Assert.Equal(stored, RunChecksumDump(program, arguments));
        }

        // C's, verified here: elements and messages replaced in shared memory (as a C writer
        // would write them), each with the checksum C computed; the readers accept them.
        long[] replacements = [7, 8, 9, 10, 11];
        byte[][] newBodies = [[], [0x43], [.. "abcdefghijklmnopqrstuvwxyz"u8]];
        var cArguments = replacements.Select(v => "s:" + Convert.ToHexString(BitConverter.GetBytes(v)))
            .Concat(newBodies.Select((b, i) => $"m:{i + 5}:{Convert.ToHexString(b)}")).ToList();
        List<uint> fromC = RunChecksumDump(programs[^1], cArguments);
        for (int i = 0; i < replacements.Length; i++)
        {
            byte* slot = Slot(slots, i);
            *(long*)(slot + 8) = replacements[i];
            *(uint*)(slot + 20) = fromC[i];
        }

        position = 0;
        for (int i = 0; i < newBodies.Length; i++)
        {
            byte* record = Record(messages, position);
            *(int*)(record + 4) = i + 5;
            newBodies[i].CopyTo(new Span<byte>(record + 8, newBodies[i].Length));
            Unsafe.WriteUnaligned(record + 8 + newBodies[i].Length, fromC[replacements.Length + i]);
            position += (*(int*)record + 7) & ~7;
        }

        foreach (long expected in replacements)
        {
            Assert.True(slots.Reader.TryRead(out long value));
            Assert.Equal(expected, value);
        }

        for (int i = 0; i < newBodies.Length; i++)
        {
            Assert.True(messages.Reader.TryRead(out IpcMessage message));
            Assert.Equal(i + 5, message.Type);
            Assert.Equal(newBodies[i], message.Payload.ToArray());
        }
    }

    /// <summary>CRC-32C bit by bit (reflected 0x82F63B78), independent of the library's: the running value, without the final inversion.</summary>
    private static uint Reference(uint crc, ReadOnlySpan<byte> bytes)
    {
        foreach (byte b in bytes)
        {
            crc ^= b;
            for (int bit = 0; bit < 8; bit++)
            {
                crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1u)));
            }
        }

        return crc;
    }

    private static unsafe uint Compute(ReadOnlySpan<byte> bytes)
    {
        fixed (byte* p = bytes)
        {
            return MessageChecksum.Compute(p, (nuint)bytes.Length);
        }
    }

    private static unsafe byte* Slot(IpcChannel<long> channel, long position)
        => channel.Region.PartPointer(channel.Core.RingPart) + RingLayout.ControlSize + ((position & (channel.Capacity - 1)) * channel.Core.Geometry.SlotSize);

    private static unsafe byte* Record(IpcMessageChannel channel, long position)
        => channel.Region.PartPointer(channel.Core.RingPart) + RingLayout.ControlSize + (position & (channel.BufferSize - 1));

    /// <summary>Flips bits of a byte of the slot of <paramref name="position"/> (plain: the reader reads it later, on this thread).</summary>
    private static unsafe void Xor(IpcChannel<long> channel, long position, int offset, byte mask) => Slot(channel, position)[offset] ^= mask;

    /// <summary>Corrupts the record at <paramref name="position"/> (of an 8-byte message) so that only its checksum can tell.</summary>
    private static unsafe void Corrupt(IpcMessageChannel channel, long position, Flip flip)
    {
        byte* record = Record(channel, position);
        switch (flip)
        {
            case Flip.MessageByte: record[8 + 2] ^= 0x10; break;
            case Flip.Checksum: record[8 + 8] ^= 0x01; break;
            case Flip.Type: *(int*)(record + 4) = 5; break; // still a valid type
            default: *(int*)record = 19; break; // still a valid length, the same 24 bytes in the ring
        }
    }

    private static unsafe void SetChannelFlags(SharedRegion region, uint flags)
        => *(uint*)(region.PartPointer(region.FindPart(PartKind.WaitBlock, 0)) + WaitBlockLayout.ChannelFlagsOffset) = flags;

    private static void Open(bool messages, string name)
    {
        if (messages)
        {
            IpcChannel.OpenNamedMessages(name).Dispose();
        }
        else
        {
            IpcChannel.OpenNamed<long>(name).Dispose();
        }
    }

    private static byte[] Message(int i, int max)
    {
        byte[] message = new byte[i * 7 % (max + 1)];
        for (int k = 0; k < message.Length; k++)
        {
            message[k] = (byte)(i + k);
        }

        return message;
    }

    private static void AssertMessage(int i, int type, ReadOnlySpan<byte> payload, int max)
    {
        Assert.Equal(i, type);
        Assert.Equal(Message(i, max), payload.ToArray());
    }

    /// <summary>One element or message through the given read form; it must throw for these tests.</summary>
    private static async Task ReadOne(IpcChannelReader<long> reader, SlotRead read)
    {
        switch (read)
        {
            case SlotRead.TryRead: reader.TryRead(out long _); break;
            case SlotRead.TryReadSpan: reader.TryRead(new long[2]); break;
            case SlotRead.Drain:
                var collect = new Collect(new long[8]);
                reader.Drain(ref collect);
                break;
            case SlotRead.TryReadWithTimeout: reader.TryRead(out _, Short); break;
            case SlotRead.ReadAsync: await reader.ReadAsync(); break;
            default:
                await foreach (long _ in reader.ReadAllAsync().WithCancellation(new CancellationTokenSource(Long).Token))
                {
                    break;
                }

                break;
        }
    }

    private static async Task ReadOne(IpcMessageReader reader, MessageRead read)
    {
        byte[] buffer = new byte[reader.MaxMessageLength];
        var handler = new CheckMessages();
        switch (read)
        {
            case MessageRead.TryReadMessage: reader.TryRead(out IpcMessage _); break;
            case MessageRead.TryReadInto: reader.TryRead(out _, buffer, out _); break;
            case MessageRead.Handler: reader.Read(ref handler, 4); break;
            case MessageRead.HandlerWithTimeout: reader.Read(ref handler, 4, Short); break;
            case MessageRead.TryReadIntoWithTimeout: reader.TryRead(out _, buffer, out _, Short); break;
            case MessageRead.ReadAsyncMemory: await reader.ReadAsync(buffer); break;
            case MessageRead.Batch: ReadBatch(reader); break;
            default:
                await foreach (IpcMessage _ in reader.ReadAllAsync().WithCancellation(new CancellationTokenSource(Long).Token))
                {
                    break;
                }

                break;
        }
    }

    /// <summary>A pull batch under <c>using</c>: what it took is released also when a message fails its check.</summary>
    private static void ReadBatch(IpcMessageReader reader)
    {
        reader.TryReadBatch(out ReadBatch taken, 4);
        using var batch = taken;
        while (batch.TryNext(out int type, out ReadOnlySpan<byte> payload))
        {
            Assert.Equal(3, type);
            Assert.Equal(8, payload.Length); // the checksum stripped
        }
    }

    /// <summary>Compiles test/native/checksum_dump.c against the header: with SSE4.2 (hardware crc32) and without (software), on x86-64.</summary>
    private string[] CompileChecksumDump()
    {
        string? gcc = ExternalProgram.FindOnPath("gcc");
        RequiredTools.SkipWhenMissing(gcc is null, "gcc is not installed (apt-get install gcc); the C checksum check needs a C compiler.");
        string[] variants = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? ["-msse4.2", "-mno-sse4.2"] : ["-O2"];
        return [.. variants.Select(flag =>
        {
            string exe = Path.Combine(_temp.FullName, "checksum_dump" + flag);
            var compile = ExternalProgram.Run(gcc!, "-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic", flag, "-I", LayoutHeader.NativeDirectory,
                "-o", exe, Path.Combine(LayoutHeader.NativeDirectory, "checksum_dump.c"));
            Assert.True(compile.ExitCode == 0, $"gcc {flag} failed: {compile}");
            return exe;
        })];
    }

    private static List<uint> RunChecksumDump(string program, List<string> arguments)
    {
        var run = ExternalProgram.Run(program, [.. arguments]);
        Assert.True(run.ExitCode == 0, $"checksum_dump failed: {run}");
        return [.. run.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => uint.Parse(line, CultureInfo.InvariantCulture))];
    }

    private static TheoryData<TA, TB> Cross<TA, TB>(IEnumerable<TA> first, IEnumerable<TB> second)
    {
        var data = new TheoryData<TA, TB>();
        foreach (TA a in first)
        {
            foreach (TB b in second)
            {
                data.Add(a, b);
            }
        }

        return data;
    }

    private struct Collect(long[] values) : ISlotHandler<long>
    {
        public readonly long[] Values = values;
        public int Count;

        public void Handle(in long item) => Values[Count++] = item;
    }

    private struct CheckNothing : IRecordHandler
    {
        public readonly void Handle(int type, ReadOnlySpan<byte> payload)
        {
        }
    }

    /// <summary>Checks that messages come in order (see <see cref="Message"/>), from <see cref="Next"/> on.</summary>
    private struct CheckMessages : IRecordHandler
    {
        public int Next;

        public void Handle(int type, ReadOnlySpan<byte> payload)
        {
            AssertMessage(Next++, type, payload, 1024 / 8 - 4);
        }
    }
}
