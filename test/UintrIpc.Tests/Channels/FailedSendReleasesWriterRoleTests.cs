using UintrIpc.Bootstrap;
using UintrIpc.Channels;
using UintrIpc.Tests.Bootstrap;
using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.Channels;

/// <summary>
/// SendChannel of a named single-writer channel takes the name's writer role for the receiver
/// before it sends. When the send fails (the peer hung up), no process got the channel: the role
/// goes back at once. It used to stay with the channel object until it was disposed, so another
/// channel object of the name (another process, as a rule) was refused its writer.
/// </summary>
public sealed class FailedSendReleasesWriterRoleTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(30);
    private readonly ShmNames _names = new();

    public void Dispose() => _names.Dispose();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void After_a_failed_send_another_channel_object_of_the_name_gets_the_writer(bool messages)
    {
        string name = _names.New("sendfail");
        var options = new IpcChannelOptions { Name = name, Capacity = 8, BufferSize = 4096, Doorbell = DoorbellKind.Futex };
        using IpcChannel<long>? slots = messages ? null : IpcChannel.CreateBounded<long>(options);
        using IpcMessageChannel? records = messages ? IpcChannel.CreateMessages(options) : null;
        using (var pair = BootstrapPair.Open(SocketNames.NewAbstract("sendfail")))
        {
            pair.ClientSide.Dispose(); // the receiver hangs up: nothing can be sent
            Exception failure = Assert.ThrowsAny<Exception>(() =>
            {
                if (messages)
                {
                    pair.ServerSide.SendChannel(records!);
                }
                else
                {
                    pair.ServerSide.SendChannel(slots!);
                }
            });
            output.WriteLine($"the send failed: {failure.GetType().Name}: {failure.Message}");
            Assert.IsNotType<InvalidOperationException>(failure); // a failed send, not a refused handover
        }

        // Another channel object of the name, as another process opens it: its writer takes the role.
        if (messages)
        {
            using var opened = IpcChannel.OpenNamedMessages(name);
            Assert.True(opened.Writer.TryWrite(5, [1, 2, 3]));
            var buffer = new byte[16];
            Assert.True(records!.Reader.TryRead(out int type, buffer, out int length, Long));
            Assert.Equal((5, 3), (type, length));
        }
        else
        {
            using var opened = IpcChannel.OpenNamed<long>(name);
            Assert.True(opened.Writer.TryWrite(42));
            Assert.True(slots!.Reader.TryRead(out long value, Long));
            Assert.Equal(42, value);
        }
    }
}
