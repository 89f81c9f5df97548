using System.Net.Sockets;

namespace UintrIpc.Bench.Workloads;

/// <summary>Whole-buffer send and receive on a blocking stream socket.</summary>
internal static class SocketIo
{
    public static void SendAll(Socket socket, ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            data = data[socket.Send(data)..];
        }
    }

    public static void ReceiveExactly(Socket socket, Span<byte> data)
    {
        while (!data.IsEmpty)
        {
            int n = socket.Receive(data);
            if (n == 0)
            {
                throw new EndOfStreamException("the peer closed the socket");
            }

            data = data[n..];
        }
    }

    /// <summary>A name in the abstract socket namespace (nothing to delete afterwards), unique to this case.</summary>
    public static string AbstractName() => CaseContext.NewUniqueName() + ".sock";

    /// <summary>The end point of an abstract-namespace name.</summary>
    public static UnixDomainSocketEndPoint EndPoint(string abstractName) => new("\0" + abstractName);
}
