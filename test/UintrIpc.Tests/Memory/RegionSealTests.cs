using Tmds.Linux;
using UintrIpc.Interop;
using UintrIpc.Memory;
using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.Memory;

/// <summary>
/// Finding 2 of the trust issue: a descriptor whose file can be truncated under our mapping
/// kills us with SIGBUS. Attach refuses a memfd without the shrink and grow seals; a named
/// region's size is checked against its header when it is opened.
/// </summary>
public sealed unsafe class RegionSealTests : IDisposable
{
    private readonly ShmNames _names = new();

    public void Dispose() => _names.Dispose();

    // Seal bits (fcntl(2)): F_SEAL_SEAL 1, F_SEAL_SHRINK 2, F_SEAL_GROW 4.
    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(1)]
    public void Attach_refuses_a_memfd_that_could_be_resized(int seals)
    {
        using var fd = CopyOfARegionInAMemfd(seals);

        var e = Assert.Throws<UintrIpcException>(() => SharedRegion.Attach(fd));
        Assert.Contains("F_SEAL_SHRINK and F_SEAL_GROW are required", e.Message, StringComparison.Ordinal);
        // Resizing it now would have crashed an attacher (SIGBUS) on its next access to a lost page.
        Assert.Equal(0, (seals & 2) == 0 ? LibC.ftruncate(fd.Fd, 0) : LibC.ftruncate(fd.Fd, 1 << 20));
    }

    [Fact]
    public void Attach_accepts_a_memfd_sealed_against_shrinking_and_growing()
    {
        using var fd = CopyOfARegionInAMemfd(LibC.F_SEAL_SHRINK | LibC.F_SEAL_GROW);
        using var region = SharedRegion.Attach(fd);
        Assert.Equal(PartKind.User, region.Parts[0].Kind);
    }

    [Fact]
    public void Attach_of_a_named_regions_descriptor_checks_its_size_against_the_header()
    {
        string name = _names.New("seal");
        using var region = SharedRegion.CreateNamed(name, 0, new PartSpec(PartKind.User, 0, 4096));
        using (var attached = SharedRegion.Attach(region.FileHandle))
        {
            Assert.Equal(region.Size, attached.Size);
        }

        // Grown by someone with write access: the header's total size no longer matches the file.
        Assert.Equal(0, LibC.ftruncate(region.FdHandle.Fd, region.Size + 4096));
        var e = Assert.Throws<RegionFormatException>(() => SharedRegion.OpenNamed(name, TimeSpan.FromMilliseconds(200)));
        Assert.Equal("total size", e.Field);
        Assert.Throws<RegionFormatException>(() => SharedRegion.Attach(region.FileHandle, TimeSpan.FromMilliseconds(200)));
    }

    // A peer that sends an eventfd, a pipe or a socket where a region belongs must be refused at
    // once: such a file's size is 0 for good, and waiting the init timeout for a creator to size
    // it only stalls the receiver (5 s by default).
    [Fact]
    public void Attach_refuses_a_descriptor_that_is_not_a_regular_file_without_waiting()
    {
        using var eventFd = new SafeFdHandle(LibC.eventfd(0, LibC.EFD_CLOEXEC), ownsHandle: true);
        Assert.False(eventFd.IsInvalid);
        // Waiting would end in a RegionFormatException about the file size after the timeout.
        var e = Assert.Throws<UintrIpcException>(() => SharedRegion.Attach(eventFd, TimeSpan.FromSeconds(10)));
        Assert.Contains("not a regular file", e.Message, StringComparison.Ordinal);
    }

    /// <summary>A valid region's bytes in a fresh memfd carrying exactly <paramref name="seals"/>.</summary>
    private static SafeFdHandle CopyOfARegionInAMemfd(int seals)
    {
        using var original = SharedRegion.CreateAnonymous(new PartSpec(PartKind.User, 0, 4096));
        byte[] bytes = new ReadOnlySpan<byte>(original.BasePointer, checked((int)original.Size)).ToArray();
        byte* name = stackalloc byte[] { (byte)'t', 0 };
        var fd = new SafeFdHandle(LibC.memfd_create(name, LibC.MFD_CLOEXEC | LibC.MFD_ALLOW_SEALING), ownsHandle: true);
        Assert.True(fd.Fd >= 0);
        fixed (byte* p = bytes)
        {
            Assert.Equal(bytes.Length, (int)LibC.write(fd.Fd, p, (size_t)bytes.Length));
        }

        if (seals != 0)
        {
            Assert.Equal(0, LibC.fcntl(fd.Fd, LibC.F_ADD_SEALS, seals));
        }

        return fd;
    }
}

/// <summary>Permissions of named regions: 0600 by default, another user's region refused unless asked.</summary>
public sealed unsafe class RegionOwnerTests : IDisposable
{
    private readonly ShmNames _names = new();

    public void Dispose() => _names.Dispose();

    [Fact]
    public void Named_regions_are_created_0600()
    {
        string name = _names.New("mode");
        using var region = SharedRegion.CreateNamed(name, 0, new PartSpec(PartKind.User, 0, 4096));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(SharedRegion.SharedMemoryDirectory + "/" + name));
    }

    [Fact]
    public void OpenNamed_refuses_a_region_owned_by_another_user_unless_asked()
    {
        Assert.SkipUnless(LibC.geteuid() == 0, "giving a file to another user (fchown) needs root");
        string name = _names.New("owner");
        using var region = SharedRegion.CreateNamed(name, 0, new PartSpec(PartKind.User, 0, 4096));
        Assert.Equal(0, LibC.fchown(region.FdHandle.Fd, 65534, 65534));

        var e = Assert.Throws<UintrIpcException>(() => SharedRegion.OpenNamed(name, TimeSpan.FromMilliseconds(200)));
        Assert.Contains("belongs to uid 65534", e.Message, StringComparison.Ordinal);
        using var trusted = SharedRegion.OpenNamed(name, TimeSpan.FromMilliseconds(200), allowOtherOwner: true);
        Assert.Equal(region.Epoch, trusted.Epoch);
    }
}
