using UintrIpc.Memory;
using Xunit;

namespace UintrIpc.Tests.Memory;

/// <summary>
/// Which placeholder the last release leaves: writable, except under strict overcommit, where a
/// writable private range would be charged its length against the host's commit limit (review15).
/// The host's own mode is not changed by tests; the decision is checked on the file's contents.
/// </summary>
public sealed class PlaceholderModeTests
{
    [Theory]
    [InlineData("0\n", true)]
    [InlineData("1\n", true)]
    [InlineData("2\n", false)]
    [InlineData("2", false)]
    [InlineData(null, true)]
    public void The_placeholder_is_writable_unless_overcommit_is_strict(string? mode, bool writable)
        => Assert.Equal(writable, SafeMappingHandle.AllowsWritablePlaceholder(mode));
}
