// Two processes exchange messages over UintrIpc. The parent starts a copy of itself; each
// process creates the channel it reads from and hands it to the other over one Unix-socket
// connection (credentials checked, descriptors passed); the parent sends "ping N", the child
// answers "pong N". Every wait is bounded: a dead peer ends the program with an error.
using System.Diagnostics;
using System.Text;
using UintrIpc.Bootstrap;
using UintrIpc.Channels;

var timeout = TimeSpan.FromSeconds(10);
bool isChild = args is ["child", _];
string me = isChild ? "child" : "parent";
Process? child = null;

using var inbox = IpcChannel.CreateMessages();        // the channel this process reads
using (var connection = isChild ? BootstrapConnection.Connect(args[1], timeout) : AcceptChild())
{
    connection.SendChannel(inbox);                     // the peer writes to our inbox
    using var outbox = connection.ReceiveMessageChannel(timeout);

    var buffer = new byte[inbox.MaxMessageLength];
    for (int i = 1; i <= 3; i++)
    {
        if (!isChild)
        {
            Send(outbox.Writer, i, $"ping {i}");
        }

        if (!inbox.Reader.TryRead(out int type, buffer, out int length, timeout))
        {
            throw new TimeoutException($"{me}: no message {i} within {timeout.TotalSeconds} s");
        }

        string text = Encoding.UTF8.GetString(buffer, 0, length);
        Console.WriteLine($"{me} {Environment.ProcessId} received '{text}' (type {type}) over a {inbox.Doorbell} channel");
        if (isChild)
        {
            Send(outbox.Writer, type, text.Replace("ping", "pong", StringComparison.Ordinal));
        }
    }
}

if (child is not null)
{
    if (!child.WaitForExit(timeout))
    {
        child.Kill();
        throw new TimeoutException("the child did not exit");
    }

    Console.WriteLine($"native shim: {NativeShimPath()}");
    return child.ExitCode;
}

return 0;

// Listens on a fresh abstract socket name, starts this program again as the child, and accepts it.
BootstrapConnection AcceptChild()
{
    var endpoint = $"@uintripc-hello-{Environment.ProcessId}";
    using var server = BootstrapServer.Listen(endpoint);
    var self = new ProcessStartInfo(Environment.ProcessPath!) { UseShellExecute = false };
    if (Path.GetFileNameWithoutExtension(self.FileName) == "dotnet")
    {
        self.ArgumentList.Add(Environment.GetCommandLineArgs()[0]); // `dotnet app.dll`: the dll
    }

    self.ArgumentList.Add("child");
    self.ArgumentList.Add(endpoint);
    child = Process.Start(self);
    return server.Accept(timeout);
}

void Send(IpcMessageWriter writer, int type, string text)
{
    if (!writer.TryWrite(type, Encoding.UTF8.GetBytes(text), timeout))
    {
        throw new TimeoutException($"{me}: no room for '{text}' within {timeout.TotalSeconds} s");
    }
}

// Where libuintripc.so was loaded from (from the package's runtimes folder, or next to the program).
static string NativeShimPath() => File.ReadLines("/proc/self/maps")
    .Select(line => line[(line.IndexOf('/', StringComparison.Ordinal) is var i and >= 0 ? i : line.Length)..])
    .FirstOrDefault(path => path.EndsWith("/libuintripc.so", StringComparison.Ordinal)) ?? "not loaded";
