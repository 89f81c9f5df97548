using System.Diagnostics;
using UintrIpc.Bootstrap;
using UintrIpc.Channels;

namespace UintrIpc.Demo;

/// <summary>
/// The second process: receives the pong channel from the parent over Bootstrap, creates the
/// ping channel and sends it back, then answers the parent's messages.
/// Every wait is bounded: if the parent disappears, the child gives up after <see cref="Program.Timeout"/>.
/// </summary>
internal static class Child
{
    public static int Run(string endpoint, DoorbellKind doorbell)
    {
        using var connection = BootstrapConnection.Connect(endpoint, Program.Timeout);
        using var pongChannel = connection.ReceiveChannel<DemoMessage>(Program.Timeout, Program.ChannelOptions);
        using var ping = IpcChannel.CreateBounded<DemoMessage>(Program.ChannelOptions with { Doorbell = doorbell });
        var consumer = ping.Reader; // on this thread: signal and uintr doorbells bind to it
        var pong = pongChannel.Writer;
        connection.SendChannel(ping);

        bool awake = false;
        var batch = new DemoMessage[256];
        while (true)
        {
            DemoMessage m = awake ? Program.SpinRead(consumer) : consumer.Read(Program.Timeout);
            switch (m.Command)
            {
                case DemoCommand.Ping:
                    break;
                case DemoCommand.StayAwake:
                    awake = true;
                    break;
                case DemoCommand.Sleep:
                    awake = false;
                    break;
                case DemoCommand.Stream:
                    long received = 0;
                    var progress = new Progress();
                    while (received < m.Value)
                    {
                        int n = consumer.TryRead(batch);
                        received += n;
                        if (progress.HasStalled(n))
                        {
                            throw new TimeoutException($"stream: nothing arrived for {Program.Timeout.TotalSeconds} s after {received} of {m.Value} messages");
                        }
                    }

                    m.Value = received;
                    break;
                case DemoCommand.ReportCpu:
                    m.Value = (long)Process.GetCurrentProcess().TotalProcessorTime.TotalMicroseconds;
                    break;
                case DemoCommand.Stop:
                    Program.Write(pong, m);
                    return 0;
                default:
                    throw new InvalidOperationException($"unknown command {m.Command}");
            }

            Program.Write(pong, m);
        }
    }
}
