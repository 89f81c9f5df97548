using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace UintrIpc.Tests.Docs;

/// <summary>
/// The waiting reads and writes of the channel endpoints list, in their XML docs, the exceptions
/// a broken, hostile or dead peer makes them throw: RingCorruptedException (the waits retry the
/// non-blocking forms, which throw it, and a wait's probe reads the ring too; the async waiter
/// hands it to the awaiting caller) and PeerGoneException (every writer gone with the ring
/// drained; the reader gone for a writer). Read from the built UintrIpc.xml; an inheritdoc is
/// followed to the member it names.
/// </summary>
public sealed partial class WaitingEndpointDocsTests
{
    private const string RingCorrupted = "T:UintrIpc.RingCorruptedException";
    private const string PeerGone = "T:UintrIpc.Channels.PeerGoneException";

    [Fact]
    public void Every_waiting_read_and_write_of_the_channel_endpoints_lists_what_a_peer_can_make_it_throw()
    {
        var members = XDocument.Load(Path.Combine(AppContext.BaseDirectory, "UintrIpc.xml")).Descendants("member")
            .ToDictionary(m => (string)m.Attribute("name")!, m => m);
        var missing = new List<string>();
        int checkedMembers = 0;
        foreach (var (name, member) in members)
        {
            Match waiting = WaitingMember().Match(name);
            if (!waiting.Success)
            {
                continue;
            }

            checkedMembers++;
            string[] required = waiting.Groups["method"].Value == "WaitToWriteAsync" ? [PeerGone] : [RingCorrupted, PeerGone];
            var listed = Documented(member, members).Elements("exception").Select(e => (string?)e.Attribute("cref")).ToHashSet();
            missing.AddRange(required.Where(r => !listed.Contains(r)).Select(r => $"{name}: {r}"));
        }

        Assert.True(missing.Count == 0, "not listed:\n" + string.Join('\n', missing));
        // 5 + 6 reads (IpcChannelReader<T>, IpcMessageReader), 4 + 5 writes: the pattern still finds them all.
        Assert.Equal(20, checkedMembers);
    }

    /// <summary>The member's docs, or those its inheritdoc names.</summary>
    private static XElement Documented(XElement member, Dictionary<string, XElement> members)
        => member.Element("inheritdoc")?.Attribute("cref") is { } cref && members.TryGetValue(cref.Value, out var inherited) ? Documented(inherited, members) : member;

    /// <summary>A read or write of an endpoint that waits: it takes a timeout or a cancellation token.</summary>
    [GeneratedRegex(@"^M:UintrIpc\.Channels\.Ipc(Channel|Message)(Reader|Writer)(`1)?\.(?<method>WaitToRead|TryRead|Read|Read``1|WaitToReadAsync|ReadAsync|TryWrite|WriteAsync|WaitToWriteAsync|WaitToWrite)\(.*(System\.TimeSpan|System\.Threading\.CancellationToken)\)$")]
    private static partial Regex WaitingMember();
}
