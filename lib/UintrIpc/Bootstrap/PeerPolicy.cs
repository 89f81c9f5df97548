using System.Diagnostics.CodeAnalysis;
using Tmds.Linux;

namespace UintrIpc.Bootstrap;

/// <summary>
/// Which peers a bootstrap server (or client) talks to, judged on the peer's kernel-reported
/// credentials (<see cref="PeerCredentials"/>). The default, <see cref="SameUserOnly"/>,
/// accepts only processes running as this process's effective user.
/// </summary>
/// <remarks>
/// A refused peer gets the reason and nothing else: no descriptor is passed, nothing is mapped.
/// Policies are immutable; <see cref="Where"/> returns a new one.
/// </remarks>
public sealed class PeerPolicy
{
    private readonly uint[]? _allowedUserIds;
    private readonly Func<PeerCredentials, string?>? _check;

    private PeerPolicy(uint[]? allowedUserIds, Func<PeerCredentials, string?>? check)
    {
        _allowedUserIds = allowedUserIds;
        _check = check;
    }

    /// <summary>Accepts peers whose effective uid equals this process's effective uid.</summary>
    public static PeerPolicy SameUserOnly { get; } = new(null, null);

    /// <summary>
    /// The user ids allowed, or null when the policy allows this process's own user only
    /// (<see cref="SameUserOnly"/>).
    /// </summary>
    public IReadOnlyList<uint>? AllowedUserIds => _allowedUserIds;

    /// <summary>Accepts peers whose effective uid is one of <paramref name="userIds"/> (and no one else, not even our own user unless listed).</summary>
    /// <exception cref="ArgumentException">The list is empty.</exception>
    public static PeerPolicy AllowUsers(params IEnumerable<uint> userIds)
    {
        ArgumentNullException.ThrowIfNull(userIds);
        uint[] ids = userIds.Distinct().Order().ToArray();
        if (ids.Length == 0)
        {
            throw new ArgumentException("The allow-list is empty, so it would refuse everyone.", nameof(userIds));
        }

        return new PeerPolicy(ids, null);
    }

    /// <summary>
    /// Adds a check that runs after the user-id rule: <paramref name="check"/> returns null to
    /// accept the peer or a reason to refuse it (the reason is sent to the peer, so keep
    /// secrets out of it). Checks added earlier run first.
    /// </summary>
    public PeerPolicy Where(Func<PeerCredentials, string?> check)
    {
        ArgumentNullException.ThrowIfNull(check);
        var previous = _check;
        return new PeerPolicy(_allowedUserIds, previous is null ? check : peer => previous(peer) ?? check(peer));
    }

    /// <summary>Decides about <paramref name="peer"/>; <paramref name="reason"/> says why when it is refused.</summary>
    public bool IsAllowed(PeerCredentials peer, [NotNullWhen(false)] out string? reason)
    {
        if (_allowedUserIds is null)
        {
            uint self = LibC.geteuid();
            if (peer.Uid != self)
            {
                reason = $"peer ({peer}) runs as uid {peer.Uid}, but only uid {self} (the same user) is allowed";
                return false;
            }
        }
        else if (Array.BinarySearch(_allowedUserIds, peer.Uid) < 0)
        {
            // The list itself stays out of the reason: the reason is sent to the refused peer.
            reason = $"peer ({peer}) runs as uid {peer.Uid}, which is not in the allow-list";
            return false;
        }

        string? refusal = _check?.Invoke(peer);
        if (refusal is not null)
        {
            reason = $"peer ({peer}) refused by a custom check: {refusal}";
            return false;
        }

        reason = null;
        return true;
    }

    /// <inheritdoc />
    public override string ToString()
        => (_allowedUserIds is null ? "same user only" : $"uids [{string.Join(", ", _allowedUserIds)}]")
           + (_check is null ? string.Empty : " + custom check");
}
