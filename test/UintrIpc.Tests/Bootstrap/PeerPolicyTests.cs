using Tmds.Linux;
using UintrIpc.Bootstrap;

namespace UintrIpc.Tests.Bootstrap;

public sealed class PeerPolicyTests
{
    private static readonly uint s_self = LibC.geteuid();

    [Fact]
    public void Same_user_only_accepts_our_uid_and_refuses_another()
    {
        Assert.True(PeerPolicy.SameUserOnly.IsAllowed(new PeerCredentials(1, s_self, 0), out _));
        Assert.False(PeerPolicy.SameUserOnly.IsAllowed(new PeerCredentials(1234, s_self + 1, 0), out string? reason));
        Assert.Contains($"uid {s_self + 1}", reason, StringComparison.Ordinal);
        Assert.Contains("pid 1234", reason, StringComparison.Ordinal);
    }

    [Fact]
    public void An_allow_list_accepts_only_its_uids()
    {
        var policy = PeerPolicy.AllowUsers(s_self + 5, s_self + 7);
        Assert.Equal([s_self + 5, s_self + 7], policy.AllowedUserIds);
        Assert.True(policy.IsAllowed(new PeerCredentials(1, s_self + 7, 0), out _));
        Assert.False(policy.IsAllowed(new PeerCredentials(1, s_self, 0), out string? reason));
        Assert.Contains("allow-list", reason, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => PeerPolicy.AllowUsers());
    }

    [Fact]
    public void Custom_checks_run_after_the_uid_rule_in_order()
    {
        var policy = PeerPolicy.SameUserOnly
            .Where(p => p.Pid == 13 ? "pid 13 is unlucky" : null)
            .Where(p => p.Gid == 99 ? "gid 99 is banned" : null);
        Assert.True(policy.IsAllowed(new PeerCredentials(12, s_self, 0), out _));
        Assert.False(policy.IsAllowed(new PeerCredentials(13, s_self, 99), out string? reason));
        Assert.Contains("pid 13 is unlucky", reason, StringComparison.Ordinal);
        Assert.False(policy.IsAllowed(new PeerCredentials(12, s_self, 99), out reason));
        Assert.Contains("gid 99 is banned", reason, StringComparison.Ordinal);
        // The uid rule still applies first.
        Assert.False(policy.IsAllowed(new PeerCredentials(12, s_self + 1, 0), out reason));
        Assert.Contains("same user", reason, StringComparison.Ordinal);
    }
}
