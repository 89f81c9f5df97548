using UintrIpc.Channels;

namespace UintrIpc.Tests.Channels;

/// <summary>
/// A channel name that cannot be a file name under /dev/shm is refused where it is given
/// (IpcChannelOptions.Name, OpenNamed), by one rule, with which rule it breaks and what a name
/// may be; a name of hundreds of bytes is shortened in the message instead of filling it
/// (design-notes user43: a 300-character name was echoed whole, the options accepted a name the
/// create then refused, and "1-255 bytes" did not say that 100 '€' are 300).
/// </summary>
public sealed class ChannelNameTests
{
    [Fact]
    public void A_name_too_long_for_dev_shm_is_refused_by_the_options_saying_its_length_in_bytes()
    {
        string name = new('n', 300);
        var e = Assert.Throws<ArgumentException>(() => new IpcChannelOptions { Name = name });
        Assert.Equal("Name", e.ParamName);
        Assert.Contains("it is 300 bytes long in UTF-8", e.Message, StringComparison.Ordinal);
        Assert.Contains("1 to 255 bytes of UTF-8", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(name, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void OpenNamed_counts_the_bytes_of_multibyte_characters()
    {
        string name = new('€', 100); // 3 bytes each
        var e = Assert.Throws<ArgumentException>(() => IpcChannel.OpenNamed<long>(name));
        Assert.Equal("name", e.ParamName);
        Assert.Contains("it is 300 bytes long in UTF-8", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => IpcChannel.OpenNamedMessages(name));
    }

    [Theory]
    [InlineData("", "it is empty")]
    [InlineData("a/b", "it contains '/'")]
    [InlineData("a\0b", "it contains a NUL character")]
    [InlineData(".", "it names a directory")]
    [InlineData("..", "it names a directory")]
    public void Each_broken_rule_is_named_by_the_options(string name, string rule)
    {
        var e = Assert.Throws<ArgumentException>(() => new IpcChannelOptions { Name = name });
        Assert.Equal("Name", e.ParamName);
        Assert.Contains(rule, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_name_of_255_bytes_is_accepted()
        => Assert.Equal(255, new IpcChannelOptions { Name = new string('n', 255) }.Name!.Length);
}
