using UintrIpc.Channels;

namespace UintrIpc.Tests.Channels;

/// <summary>
/// A call that reaches a disposed channel end's ring (a claim or batch left open across the
/// writer's Dispose, a reader's Read or Drain after its Dispose) throws ObjectDisposedException
/// naming the end the user holds (IpcMessageWriter, IpcChannelReader&lt;T&gt;, ...), as the ends' own
/// checks do, not the internal "record ring" or "slot ring" (leads43).
/// </summary>
public sealed class DisposedEndNameTests
{
    public static TheoryData<bool> WriterKinds => new() { false, true };

    [Theory]
    [MemberData(nameof(WriterKinds))]
    public void A_message_claim_open_across_its_writers_Dispose_names_the_writer(bool multipleWriters)
    {
        using var channel = IpcChannel.CreateMessages(Options(multipleWriters));
        var writer = channel.Writer;
        Assert.True(writer.TryClaim(1, 8, out MessageClaim claim));
        writer.Dispose();
        AssertNames<IpcMessageWriter>(Catch(ref claim, static (ref MessageClaim c) => c.Commit()));
    }

    [Theory]
    [MemberData(nameof(WriterKinds))]
    public void A_record_batch_open_across_its_writers_Dispose_names_the_writer(bool multipleWriters)
    {
        using var channel = IpcChannel.CreateMessages(Options(multipleWriters));
        var writer = channel.Writer;
        Assert.True(writer.TryClaimBatch(256, out RecordBatch batch));
        Assert.True(batch.TryAppend(1, 8, out _));
        writer.Dispose();
        AssertNames<IpcMessageWriter>(Catch(ref batch, static (ref RecordBatch c) => c.Commit()));
    }

    [Theory]
    [MemberData(nameof(WriterKinds))]
    public void A_slot_batch_open_across_its_writers_Dispose_names_the_writer(bool multipleWriters)
    {
        using var channel = IpcChannel.CreateBounded<long>(Options(multipleWriters));
        var writer = channel.Writer;
        Assert.True(writer.TryClaim(2, out SlotBatch<long> batch));
        writer.Dispose();
        AssertNames<IpcChannelWriter<long>>(Catch(ref batch, static (ref SlotBatch<long> c) => c.Publish()));
    }

    [Theory]
    [MemberData(nameof(WriterKinds))]
    public void A_message_readers_Read_after_its_Dispose_names_the_reader(bool multipleWriters)
    {
        using var channel = IpcChannel.CreateMessages(Options(multipleWriters));
        Assert.True(channel.Writer.TryWrite(1, [1, 2, 3]));
        var reader = channel.Reader;
        reader.Dispose();
        var handler = new CountRecords();
        AssertNames<IpcMessageReader>(Assert.Throws<ObjectDisposedException>(() => reader.Read(ref handler)));
    }

    [Theory]
    [MemberData(nameof(WriterKinds))]
    public void A_slot_readers_Drain_after_its_Dispose_names_the_reader(bool multipleWriters)
    {
        using var channel = IpcChannel.CreateBounded<long>(Options(multipleWriters));
        Assert.True(channel.Writer.TryWrite(5));
        var reader = channel.Reader;
        reader.Dispose();
        var handler = new CountSlots();
        AssertNames<IpcChannelReader<long>>(Assert.Throws<ObjectDisposedException>(() => reader.Drain(ref handler)));
    }

    private static IpcChannelOptions Options(bool multipleWriters) => new() { Capacity = 16, BufferSize = 1024, MultipleWriters = multipleWriters };

    /// <summary>What <paramref name="call"/> on a claim or batch (a ref struct: no closure for Assert.Throws) threw, or null.</summary>
    private static ObjectDisposedException? Catch<T>(ref T value, OnRefStruct<T> call)
        where T : allows ref struct
    {
        try
        {
            call(ref value);
            return null;
        }
        catch (ObjectDisposedException e)
        {
            return e;
        }
    }

    private static void AssertNames<TEnd>(ObjectDisposedException? disposed)
        => Assert.Equal(typeof(TEnd).FullName, Assert.IsType<ObjectDisposedException>(disposed).ObjectName);

    private delegate void OnRefStruct<T>(ref T value)
        where T : allows ref struct;

    private struct CountRecords : IRecordHandler
    {
        public int Count;

        public void Handle(int type, ReadOnlySpan<byte> payload) => Count++;
    }

    private struct CountSlots : ISlotHandler<long>
    {
        public int Count;

        public void Handle(in long item) => Count++;
    }
}
