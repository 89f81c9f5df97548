using UintrIpc.Bootstrap;
using UintrIpc.Rpc;

namespace UintrIpc.Tests.Bootstrap;

public sealed class BootstrapEndpointTests
{
    [Fact]
    public void An_at_sign_makes_an_abstract_name()
    {
        var ep = BootstrapEndpoint.Parse("@svc");
        Assert.True(ep.IsAbstract);
        Assert.Equal("svc", ep.Name);
        Assert.Equal("@svc", ep.ToString());
        Assert.Equal(ep, BootstrapEndpoint.FromAbstractName("svc"));
    }

    [Fact]
    public void A_path_is_made_absolute()
    {
        var ep = BootstrapEndpoint.Parse("relative.sock");
        Assert.False(ep.IsAbstract);
        Assert.Equal(Path.Combine(Environment.CurrentDirectory, "relative.sock"), ep.Name);
    }

    [Theory]
    [InlineData("@")]
    [InlineData("")]
    [InlineData("@a\0b")]
    public void Empty_or_nul_names_are_rejected(string text)
        => Assert.ThrowsAny<ArgumentException>(() => BootstrapEndpoint.Parse(text));

    [Fact]
    public void Names_longer_than_sun_path_are_rejected_with_the_limit()
    {
        var longest = BootstrapEndpoint.FromAbstractName(new string('x', BootstrapEndpoint.MaxNameBytes));
        Assert.Equal(107, longest.Name.Length);
        var e = Assert.Throws<ArgumentException>(() => BootstrapEndpoint.FromAbstractName(new string('x', BootstrapEndpoint.MaxNameBytes + 1)));
        Assert.Contains("107", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => BootstrapEndpoint.FromPath("/tmp/" + new string('p', 110)));
    }

    [Fact]
    public void The_public_api_takes_the_endpoint_as_text_and_rejects_it_as_the_parser_does()
    {
        Assert.ThrowsAny<ArgumentException>(() => BootstrapServer.Listen("@"));
        var e = Assert.Throws<ArgumentException>(() => BootstrapConnection.Connect("@" + new string('x', BootstrapEndpoint.MaxNameBytes + 1), TimeSpan.Zero));
        Assert.Contains("107", e.Message, StringComparison.Ordinal);
        Assert.ThrowsAny<ArgumentException>(() => RpcClient.Connect("a\0b"));

        // A server given a bad endpoint has not started: it starts on a good one afterwards.
        using var server = new RpcServer();
        Assert.ThrowsAny<ArgumentException>(() => server.Start(string.Empty));
        string good = SocketNames.NewAbstract();
        server.Start(good);
        Assert.Equal(good, server.Endpoint);
    }

    [Fact]
    public void An_empty_endpoint_is_named_endpoint_at_every_public_entry()
    {
        // user41: RpcClient.Connect("") said "(Parameter 'text')", the parser's own name, which no
        // caller ever passed; "@" alone said "The value cannot be an empty string. (Parameter 'name')".
        var entries = new (string What, Action<string> Call)[]
        {
            ("Listen", e => BootstrapServer.Listen(e).Dispose()),
            ("Connect", e => BootstrapConnection.Connect(e, TimeSpan.Zero).Dispose()),
            ("RpcClient.Connect", e => RpcClient.Connect(e).Dispose()),
            ("RpcServer.Start", e => { using var server = new RpcServer(); server.Start(e); }),
        };
        foreach (var (what, call) in entries)
        {
            var empty = Assert.Throws<ArgumentException>(() => call(string.Empty));
            Assert.True(empty.ParamName == "endpoint", $"{what}(\"\"): ParamName {empty.ParamName}");
            var at = Assert.Throws<ArgumentException>(() => call("@"));
            Assert.True(at.ParamName == "endpoint", $"{what}(\"@\"): ParamName {at.ParamName}");
            Assert.Contains("@name", at.Message, StringComparison.Ordinal);
        }
    }
}
