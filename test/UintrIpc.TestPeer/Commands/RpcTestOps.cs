using Tmds.Linux;
using UintrIpc.Rpc;

namespace UintrIpc.TestPeer.Commands;

/// <summary>
/// The opcodes of the RPC test server, shared by the test peer and the tests (linked into
/// both), and a client workload that checks every answer.
/// </summary>
internal static class RpcTestOps
{
    /// <summary>A0 + A1.</summary>
    public const uint Add = 1;
    /// <summary>Copies the input to the output; returns its length.</summary>
    public const uint Echo = 2;
    /// <summary>Returns A0 (a negative value is -errno).</summary>
    public const uint Return = 3;
    /// <summary>On the worker pool: sleeps A0 ms, returns A1.</summary>
    public const uint Sleep = 4;
    /// <summary>Throws a UintrIpcException with errno A0.</summary>
    public const uint Throw = 5;
    /// <summary>Writes A1 bytes of value A0; returns A1.</summary>
    public const uint Fill = 6;

    public static RpcServer CreateServer(RpcServerOptions? options = null)
    {
        var server = new RpcServer(options);
        server.Map(Add, static (ref RpcRequest r) => r.Args.A0 + r.Args.A1);
        server.Map(Echo, static (ref RpcRequest r) =>
        {
            int n = r.Input.Length;
            // Input and output share the block: the copy is in place (a no-op), as for a syscall buffer.
            r.Input.CopyTo(r.Output);
            r.OutputLength = n;
            return n;
        });
        server.Map(Return, static (ref RpcRequest r) => r.Args.A0);
        server.MapBlocking(Sleep, static (ref RpcRequest r) =>
        {
            Thread.Sleep((int)Math.Clamp(r.Args.A0, 0, 60_000));
            return r.Args.A1;
        });
        server.Map(Throw, static (ref RpcRequest r) => throw new UintrIpcException("test", (int)r.Args.A0));
        server.Map(Fill, static (ref RpcRequest r) =>
        {
            int n = (int)Math.Clamp(r.Args.A1, 0, r.Output.Length);
            r.Output[..n].Fill((byte)r.Args.A0);
            r.OutputLength = n;
            return n;
        });
        return server;
    }

    /// <summary>
    /// <paramref name="threads"/> threads each make <paramref name="calls"/> calls, alternating
    /// synchronous add, synchronous echo of random bytes, and asynchronous add; returns how many
    /// answers were exactly right (throws on a transport failure).
    /// </summary>
    public static long Hammer(RpcClient client, int threads, int calls, int seed)
    {
        long ok = 0;
        var workers = new Thread[threads];
        Exception? failure = null;
        for (int t = 0; t < threads; t++)
        {
            int id = t;
            workers[t] = new Thread(() =>
            {
                try
                {
                    var random = new Random(seed * 31 + id);
                    byte[] input = new byte[512];
                    byte[] output = new byte[512];
                    long mine = 0;
                    for (int i = 0; i < calls; i++)
                    {
                        long a = random.NextInt64(-1L << 40, 1L << 40), b = random.Next();
                        switch (i % 3)
                        {
                            case 0:
                                mine += client.Call(Add, new RpcArgs(a, b), TimeSpan.FromSeconds(30)).Value == a + b ? 1 : 0;
                                break;
                            case 1:
                                int n = random.Next(0, input.Length + 1);
                                random.NextBytes(input.AsSpan(0, n));
                                output.AsSpan().Clear();
                                var r = client.Call(Echo, default, input.AsSpan(0, n), output, TimeSpan.FromSeconds(30));
                                mine += r.Value == n && r.OutputLength == n && input.AsSpan(0, n).SequenceEqual(output.AsSpan(0, n)) ? 1 : 0;
                                break;
                            default:
                                mine += client.CallAsync(Add, new RpcArgs(a, b)).AsTask().Result.Value == a + b ? 1 : 0;
                                break;
                        }
                    }

                    Interlocked.Add(ref ok, mine);
                }
                catch (Exception e)
                {
                    failure = e;
                }
            })
            { Name = $"rpc caller {t}" };
            workers[t].Start();
        }

        foreach (var w in workers)
        {
            w.Join();
        }

        return failure is null ? ok : throw new AggregateException("a caller failed", failure);
    }
}
