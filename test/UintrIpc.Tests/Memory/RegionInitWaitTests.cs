using UintrIpc.Memory;
using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.Memory;

/// <summary>
/// An attacher waits, bounded, for the creator to publish the magic: it fails with the
/// field named when nobody does, and succeeds when the creator publishes during the wait.
/// The "creator" here writes the file by hand, as a foreign (e.g. C) creator would.
/// </summary>
public sealed class RegionInitWaitTests : IDisposable
{
    private static readonly TimeSpan s_shortTimeout = TimeSpan.FromMilliseconds(200);
    private readonly ShmNames _names = new();

    public void Dispose() => _names.Dispose();

    [Fact]
    public void An_unpublished_region_times_out_naming_the_magic()
    {
        string name = _names.New("unpublished");
        WriteImage(name, UnpublishedImage(out _));

        var e = Assert.Throws<RegionFormatException>(() => SharedRegion.OpenNamed(name, s_shortTimeout));
        Assert.Equal("magic", e.Field);
        Assert.Equal("0x00000000", e.Found);
        Assert.Contains("did not publish the region within 200 ms", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_empty_file_times_out_naming_the_file_size()
    {
        string name = _names.New("empty");
        File.WriteAllBytes(Path.Combine(SharedRegion.SharedMemoryDirectory, name), []);

        var e = Assert.Throws<RegionFormatException>(() => SharedRegion.OpenNamed(name, s_shortTimeout));
        Assert.Equal("file size", e.Field);
        Assert.Equal("0 bytes", e.Found);
    }

    [Fact]
    public async Task An_attacher_succeeds_when_the_creator_publishes_during_its_wait()
    {
        string name = _names.New("late");
        byte[] image = UnpublishedImage(out ulong epoch);
        string path = WriteImage(name, image);

        var attach = Task.Run(() => SharedRegion.OpenNamed(name, TimeSpan.FromSeconds(30)));
        try
        {
            // Let the attacher reach its wait; it cannot finish before the magic exists (only by timing out after 30 s).
            await Task.Delay(100);
            Assert.False(attach.IsCompleted, attach.Exception?.ToString());

            // Publish as a foreign creator would: a 4-byte write of the magic at offset 0.
            WriteMagic(path, RegionLayout.Magic);

            using var region = await attach.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(epoch, region.Epoch);
            Assert.Equal(2, region.Parts.Count);
            Assert.Equal(new RegionPart(1, PartKind.Arena, 5, 1152, 300), region.Parts[1]);
        }
        finally
        {
            // Whatever happened, do not leave a waiting thread or an open mapping behind: a wrong
            // magic makes a still-waiting attacher give up at once.
            if (!attach.IsCompleted)
            {
                WriteMagic(path, 0xFFFFFFFF);
                try
                {
                    (await attach.WaitAsync(TimeSpan.FromSeconds(35))).Dispose();
                }
                catch (RegionFormatException)
                {
                    // Expected after the wrong magic; the failure is reported by the asserts above.
                }
            }
        }
    }

    /// <summary>The bytes of a valid two-part region, with the magic still 0.</summary>
    private static unsafe byte[] UnpublishedImage(out ulong epoch)
    {
        using var template = SharedRegion.CreateAnonymous(new PartSpec(PartKind.User, 4, 100), new PartSpec(PartKind.Arena, 5, 300));
        byte[] image = new ReadOnlySpan<byte>(template.BasePointer, checked((int)template.Size)).ToArray();
        BitConverter.GetBytes(0u).CopyTo(image, RegionLayout.MagicOffset);
        epoch = template.Epoch;
        return image;
    }

    private static string WriteImage(string name, byte[] image)
    {
        string path = Path.Combine(SharedRegion.SharedMemoryDirectory, name);
        File.WriteAllBytes(path, image);
        return path;
    }

    private static void WriteMagic(string path, uint magic)
    {
        using var file = File.OpenHandle(path, FileMode.Open, FileAccess.Write);
        RandomAccess.Write(file, BitConverter.GetBytes(magic), RegionLayout.MagicOffset);
    }
}
