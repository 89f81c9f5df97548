using UintrIpc.Bootstrap;

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
}
