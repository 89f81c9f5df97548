using UintrIpc.Bootstrap;

namespace UintrIpc.Tests.Bootstrap;

/// <summary>A server and both ends of one accepted connection, in this process.</summary>
internal sealed class BootstrapPair : IDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private BootstrapPair(BootstrapServer server, BootstrapConnection serverSide, BootstrapConnection clientSide)
    {
        Server = server;
        ServerSide = serverSide;
        ClientSide = clientSide;
    }

    public BootstrapServer Server { get; }

    public BootstrapConnection ServerSide { get; }

    public BootstrapConnection ClientSide { get; }

    /// <summary>Listens on <paramref name="endpoint"/>, connects to it and accepts.</summary>
    public static BootstrapPair Open(string endpoint)
    {
        var server = BootstrapServer.Listen(endpoint);
        BootstrapConnection? client = null;
        try
        {
            var accept = server.AcceptAsync(Timeout);
            client = BootstrapConnection.Connect(endpoint, Timeout);
            Assert.True(accept.Wait(Timeout), "Accept did not complete");
            return new BootstrapPair(server, accept.Result, client);
        }
        catch
        {
            client?.Dispose();
            server.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        ClientSide.Dispose();
        ServerSide.Dispose();
        Server.Dispose();
    }
}
