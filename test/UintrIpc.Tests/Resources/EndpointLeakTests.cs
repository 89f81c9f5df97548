using UintrIpc.Bootstrap;
using UintrIpc.Channels;
using UintrIpc.Rpc;
using UintrIpc.Tests.Bootstrap;
using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.Resources;

/// <summary>
/// In this process: every kind of channel end over every doorbell, and RPC servers and sessions,
/// created (or opened, or handed over a bootstrap connection) and disposed 20 times after two
/// warm-up rounds; then the same descriptors are open (which ones, not how many: TestFds.Added,
/// settled as DescriptorSettle explains), the same number of IPC regions is mapped and the same
/// number of the library's threads runs. In the non-parallel collection, so that no other test
/// opens or closes anything meanwhile.
/// </summary>
[Collection(CrossProcessCollection.Name)]
public sealed class EndpointLeakTests : IDisposable
{
    private const int Rounds = 20;
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(10);
    private readonly ShmNames _names = new();

    public void Dispose() => _names.Dispose();

    public static TheoryData<string, DoorbellKind> Cases()
    {
        var data = new TheoryData<string, DoorbellKind>();
        foreach (var doorbell in new[] { DoorbellKind.Futex, DoorbellKind.EventFd, DoorbellKind.Signal, DoorbellKind.None, DoorbellKind.Uintr })
        {
            foreach (string kind in new[] { "slot", "mpsc slot", "message", "duplex", "named slot", "named message", "handed slot", "handed message", "handed duplex" })
            {
                data.Add(kind, doorbell);
            }
        }

        foreach (var doorbell in new[] { DoorbellKind.Futex, DoorbellKind.EventFd, DoorbellKind.None })
        {
            data.Add("rpc session", doorbell);
            data.Add("rpc server", doorbell);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Disposing_what_was_created_gives_back_every_descriptor_mapping_and_thread(string kind, DoorbellKind doorbell)
    {
        Assert.SkipUnless(IpcChannel.IsDoorbellAvailable(doorbell, out string reason), $"{doorbell} cannot ring here: {reason}");
        Assert.SkipWhen(kind.StartsWith("named", StringComparison.Ordinal) && doorbell is DoorbellKind.EventFd or DoorbellKind.Signal,
            "a named channel's other object is opened by name, not handed over a bootstrap connection: an eventfd or a signal target cannot reach its writer (the handed cases cover them)");
        Action round = Round(kind, doorbell);
        round();
        round();
        var before = TestFds.Snapshot();
        int mappings = IpcMappings();
        var threads = LibraryThreads();
        for (int i = 0; i < Rounds; i++)
        {
            round();
        }

        Assert.Equal("", TestFds.AddedWhenSettled(before));
        // Asked again while not clean, up to 10 s (the same bounded poll as another process's descriptors):
        // a deferred unmap or a thread's exit may be in flight; a leak stays.
        Assert.Equal("", DescriptorSettle.AddedInOtherProcess(() => IpcMappings() is var now && now > mappings ? $"{now} IPC region mappings (was {mappings})" : ""));
        Assert.Equal("", DescriptorSettle.AddedInOtherProcess(() => string.Join(", ", LibraryThreads().Except(threads))));
    }

    private Action Round(string kind, DoorbellKind doorbell)
    {
        var options = new IpcChannelOptions { Capacity = 8, Doorbell = doorbell };
        return kind switch
        {
            "slot" => () => SlotRound(IpcChannel.CreateBounded<long>(options)),
            "mpsc slot" => () => SlotRound(IpcChannel.CreateBounded<long>(options with { MultipleWriters = true })),
            "message" => () => MessageRound(IpcChannel.CreateMessages(options), null),
            "duplex" => () =>
            {
                using var duplex = IpcChannel.CreateDuplex<long, long>(options);
                _ = duplex.Requests.Reader;
                _ = duplex.Responses.Reader;
                Assert.True(duplex.Requests.Writer.TryWrite(1));
                Assert.True(duplex.Requests.Reader.TryRead(out _));
                Assert.True(duplex.Responses.Writer.TryWrite(2));
                Assert.True(duplex.Responses.Reader.TryRead(out _));
            },
            "named slot" => () =>
            {
                string name = _names.New("leak");
                using (var created = IpcChannel.CreateBounded<long>(options with { Name = name }))
                {
                    SlotRound(IpcChannel.OpenNamed<long>(name, options), created);
                }

                Assert.False(File.Exists(Path.Combine("/dev/shm", name)), "the creator's Dispose removes the name");
            },
            "named message" => () =>
            {
                string name = _names.New("leak");
                using (var created = IpcChannel.CreateMessages(options with { Name = name }))
                {
                    MessageRound(IpcChannel.OpenNamedMessages(name, options), created);
                }

                Assert.False(File.Exists(Path.Combine("/dev/shm", name)), "the creator's Dispose removes the name");
            },
            "handed slot" or "handed message" or "handed duplex" => () => Handed(kind, options),
            "rpc session" => () => RpcRound(doorbell, sessions: 1),
            _ => () => RpcRound(doorbell, sessions: 0),
        };
    }

    /// <summary>Writes through <paramref name="writer"/> (its own reader when <paramref name="reader"/> is null), reads it back, disposes both.</summary>
    private static void SlotRound(IpcChannel<long> writer, IpcChannel<long>? reader = null)
    {
        using (writer)
        {
            var r = (reader ?? writer).Reader; // the reader first: an eventfd or signal doorbell is its
            Assert.True(writer.Writer.TryWrite(7));
            Assert.True(r.TryRead(out long value));
            Assert.Equal(7, value);
        }
    }

    private static void MessageRound(IpcMessageChannel writer, IpcMessageChannel? reader)
    {
        using (writer)
        {
            var r = (reader ?? writer).Reader;
            Assert.True(writer.Writer.TryWrite(1, "ab"u8));
            Assert.True(r.TryRead(out _, new byte[8], out int length));
            Assert.Equal(2, length);
        }
    }

    /// <summary>A bootstrap server and connection in this process; the channel goes over it, the receiver writes, the creator reads.</summary>
    private static void Handed(string kind, IpcChannelOptions options)
    {
        using var server = BootstrapServer.Listen(SocketNames.NewAbstract("leak"));
        var accepted = server.AcceptAsync(s_timeout);
        using var connection = BootstrapConnection.Connect(server.Endpoint, s_timeout);
        using var peer = accepted.WaitAsync(s_timeout).GetAwaiter().GetResult();
        if (kind == "handed slot")
        {
            using var channel = IpcChannel.CreateBounded<long>(options);
            var reader = channel.Reader;
            peer.SendChannel(channel);
            using var received = connection.ReceiveChannel<long>(s_timeout);
            Assert.True(received.Writer.TryWrite(3));
            Assert.True(reader.TryRead(out _));
        }
        else if (kind == "handed message")
        {
            using var channel = IpcChannel.CreateMessages(options);
            var reader = channel.Reader;
            peer.SendChannel(channel);
            using var received = connection.ReceiveMessageChannel(s_timeout);
            Assert.True(received.Writer.TryWrite(1, "x"u8));
            Assert.True(reader.TryRead(out _, new byte[8], out _));
        }
        else
        {
            // Each side's reader belongs to the thread that made it (signal): the receiving side lives on a thread of its own.
            using var duplex = IpcChannel.CreateDuplex<long, long>(options);
            var requests = duplex.Requests.Reader;
            Exception? failure = null;
            var receiving = new Thread(() =>
            {
                try
                {
                    using var received = connection.ReceiveDuplexChannel<long, long>(s_timeout);
                    Assert.True(received.Requests.Writer.TryWrite(5));
                    Assert.Equal(6, received.Responses.Reader.Read(s_timeout));
                }
                catch (Exception e)
                {
                    failure = e;
                }
            });
            receiving.Start();
            peer.SendChannel(duplex, s_timeout);
            Assert.True(requests.TryRead(out long request, s_timeout));
            Assert.True(duplex.Responses.Writer.TryWrite(request + 1));
            Assert.True(receiving.Join(s_timeout), "the receiving thread did not finish");
            Assert.Null(failure);
        }
    }

    /// <summary>An RPC server started and disposed; with a session, a client connected, one call, the client disposed and the session's end awaited.</summary>
    private static void RpcRound(DoorbellKind doorbell, int sessions)
    {
        using var closed = new SemaphoreSlim(0);
        using var server = new RpcServer();
        server.Map(1, static (ref RpcRequest r) => r.Args.A0 + 1);
        server.MapBlocking(2, static (ref RpcRequest r) => r.Args.A0 + 2); // starts the worker pool
        server.SessionClosed += (_, _) => closed.Release();
        server.Start(SocketNames.NewAbstract("leak"));
        for (int i = 0; i < sessions; i++)
        {
            using (var client = RpcClient.Connect(server.Endpoint!, new RpcClientOptions { Doorbell = doorbell }))
            {
                Assert.Equal(2, client.Call(1, new RpcArgs(1, 0), s_timeout).Value);
                Assert.Equal(3, client.Call(2, new RpcArgs(1, 0), s_timeout).Value);
            }

            Assert.True(closed.Wait(s_timeout), "the session did not end within 10 s of its client's Dispose");
        }
    }

    /// <summary>Lines of /proc/self/maps that map an IPC region (a memfd of this library or a /dev/shm file).</summary>
    private static int IpcMappings()
        => File.ReadLines("/proc/self/maps").Count(l => l.Contains("/memfd:uintripc", StringComparison.Ordinal) || l.Contains(" /dev/shm/", StringComparison.Ordinal));

    /// <summary>
    /// The threads the library names (comm, 15 characters: "UintrIpc ..." and "rpc ..."), as
    /// "tid name": which ones, not how many, as for descriptors (a thread of an earlier case may
    /// still be ending when this one starts).
    /// </summary>
    private static HashSet<string> LibraryThreads() => [.. Directory.GetDirectories("/proc/self/task").Select(task =>
    {
        try
        {
            string name = File.ReadAllText($"{task}/comm").TrimEnd('\n');
            return name.StartsWith("UintrIpc", StringComparison.Ordinal) || name.StartsWith("rpc ", StringComparison.Ordinal) ? $"{Path.GetFileName(task)} {name}" : null;
        }
        catch (IOException)
        {
            return null; // ended since the listing
        }
    }).OfType<string>()];
}
