using UintrIpc.Bootstrap;

namespace UintrIpc.Tests.Bootstrap;

/// <summary>
/// A server's Dispose on another thread ends a blocked Accept with an ObjectDisposedException
/// that names the server, wherever in Accept the Dispose lands. It used to name SafeFdHandle
/// about once in 3,000 rounds: the Dispose had closed the listening descriptor between Accept's
/// disposed check and its accept4 or poll, whose handle marshalling then threw for the handle.
/// </summary>
public sealed class AcceptDisposeRaceTests(ITestOutputHelper output)
{
    private const int Rounds = 4000;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    [Fact]
    public void A_dispose_racing_accept_always_names_the_server()
    {
        var outcomes = new Dictionary<string, int>();
        for (int round = 0; round < Rounds; round++)
        {
            var server = BootstrapServer.Listen(SocketNames.NewAbstract("acceptrace"));
            Exception? failure = null;
            var accepting = new Thread(() =>
            {
                try
                {
                    server.Accept(Timeout.InfiniteTimeSpan).Dispose();
                }
                catch (Exception e)
                {
                    failure = e;
                }
            }) { IsBackground = true };
            try
            {
                accepting.Start();
                Thread.SpinWait(round % 64 * 16); // lands the Dispose at different points of Accept's loop
            }
            finally
            {
                server.Dispose();
            }

            Assert.True(accepting.Join(Bound), $"round {round}: Accept did not end after the Dispose");
            string outcome = failure is ObjectDisposedException disposed ? $"ObjectDisposedException({disposed.ObjectName})" : failure?.GetType().Name ?? "returned";
            outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;
        }

        output.WriteLine(string.Join("\n", outcomes.Select(o => $"{o.Value} x {o.Key}")));
        Assert.Equal([$"ObjectDisposedException({typeof(BootstrapServer).FullName})"], outcomes.Keys);
        Assert.Equal(Rounds, outcomes.Values.Sum());
    }
}
