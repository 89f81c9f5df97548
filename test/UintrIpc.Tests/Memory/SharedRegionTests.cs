using Tmds.Linux;
using UintrIpc.Memory;
using UintrIpc.Tests.Infrastructure;
using UintrIpc.TestPeer.Commands;

namespace UintrIpc.Tests.Memory;

public sealed unsafe class SharedRegionTests : IDisposable
{
    private static readonly TimeSpan s_shortTimeout = TimeSpan.FromMilliseconds(200);
    private readonly ShmNames _names = new();

    public void Dispose() => _names.Dispose();

    /// <summary>Three parts of odd lengths, so the layout has to round offsets up.</summary>
    internal static PartSpec[] ThreeParts(List<(nint Address, long Length)>? initialized = null) =>
    [
        new PartSpec(PartKind.User, 1, 100, (p, n) => { initialized?.Add((p, n)); new Span<byte>((void*)p, (int)n).Fill(0xA1); }),
        new PartSpec(PartKind.Arena, 0, 5000, (p, n) => { initialized?.Add((p, n)); new Span<byte>((void*)p, (int)n).Fill(0xB2); }),
        new PartSpec(PartKind.User, 2, 129),
    ];

    [Fact]
    public void Anonymous_region_lays_out_parts_aligned_with_kinds_tags_lengths_and_runs_initializers()
    {
        var initialized = new List<(nint Address, long Length)>();
        using var region = SharedRegion.CreateAnonymous(42, ThreeParts(initialized));

        Assert.True(region.IsCreator);
        Assert.Null(region.Name);
        Assert.Equal(42u, region.RegionKind);
        Assert.Equal(Environment.ProcessId, region.CreatorPid);
        Assert.NotEqual(0ul, region.Epoch);
        Assert.Equal(RegionState.Ready, region.State);
        Assert.Equal(0, region.Size % Environment.SystemPageSize);

        Assert.Equal(3, region.Parts.Count);
        Assert.Equal(new RegionPart(0, PartKind.User, 1, RegionLayout.HeaderSize, 100), region.Parts[0]);
        // 1024 + 100 rounded up to 128 = 1152; 1152 + 5000 rounded up = 6272.
        Assert.Equal(new RegionPart(1, PartKind.Arena, 0, 1152, 5000), region.Parts[1]);
        Assert.Equal(new RegionPart(2, PartKind.User, 2, 6272, 129), region.Parts[2]);
        foreach (var part in region.Parts)
        {
            Assert.Equal(0, part.Offset % RegionLayout.PartAlignment);
            Assert.True(part.Offset + part.Length <= region.Size);
        }

        // Each initializer got its own part's address and length, in order.
        Assert.Equal(
            [((nint)region.PartPointer(region.Parts[0]), 100L), ((nint)region.PartPointer(region.Parts[1]), 5000L)],
            initialized);
        Assert.True(PartBytes(region, region.Parts[0]).ToArray().All(b => b == 0xA1));
        Assert.True(PartBytes(region, region.Parts[1]).ToArray().All(b => b == 0xB2));
        // No initializer: the part stays zero-filled.
        Assert.True(PartBytes(region, region.Parts[2]).ToArray().All(b => b == 0));
    }

    [Fact]
    public void Header_bytes_follow_the_layout()
    {
        using var region = SharedRegion.CreateAnonymous(7, ThreeParts());
        byte* b = region.BasePointer;
        Assert.Equal(RegionLayout.Magic, *(uint*)b);
        Assert.Equal("UIPC"u8.ToArray(), new ReadOnlySpan<byte>(b, 4).ToArray());
        Assert.Equal(RegionLayout.LayoutVersion, *(ushort*)(b + 4));
        Assert.Equal(RegionLayout.HeaderSize, *(ushort*)(b + 6));
        Assert.Equal(7u, *(uint*)(b + 8));
        Assert.Equal(3u, *(uint*)(b + 12));
        Assert.Equal((ulong)region.Size, *(ulong*)(b + 16));
        Assert.Equal(region.Epoch, *(ulong*)(b + 24));
        Assert.Equal(Environment.ProcessId, *(int*)(b + 32));
        Assert.Equal((uint)RegionState.Ready, *(uint*)(b + 36));
        byte* entry1 = b + 64 + 32;
        Assert.Equal((uint)PartKind.Arena, *(uint*)entry1);
        Assert.Equal(0u, *(uint*)(entry1 + 4));
        Assert.Equal(1152ul, *(ulong*)(entry1 + 8));
        Assert.Equal(5000ul, *(ulong*)(entry1 + 16));
        // Unused part entries and the reserved tail stay zero.
        Assert.True(new ReadOnlySpan<byte>(b + 64 + (3 * 32), RegionLayout.HeaderSize - 64 - (3 * 32)).ToArray().All(x => x == 0));
    }

    [Fact]
    public void Every_region_gets_a_fresh_epoch()
    {
        using var a = SharedRegion.CreateAnonymous(new PartSpec(PartKind.User, 0, 64));
        using var b = SharedRegion.CreateAnonymous(new PartSpec(PartKind.User, 0, 64));
        Assert.NotEqual(a.Epoch, b.Epoch);
    }

    [Fact]
    public void Attach_from_the_file_handle_and_from_a_raw_fd_share_the_bytes()
    {
        using var creator = SharedRegion.CreateAnonymous(9, ThreeParts());
        using var byHandle = SharedRegion.Attach(creator.FileHandle);
        using var byNumber = SharedRegion.Attach(creator.FdHandle.Fd);

        foreach (var attached in new[] { byHandle, byNumber })
        {
            Assert.False(attached.IsCreator);
            Assert.Null(attached.Name);
            Assert.Equal(creator.Size, attached.Size);
            Assert.Equal(creator.Epoch, attached.Epoch);
            Assert.Equal(creator.CreatorPid, attached.CreatorPid);
            Assert.Equal(9u, attached.RegionKind);
            Assert.Equal(creator.Parts, attached.Parts);
            // A separate mapping of the same pages.
            Assert.NotEqual((nint)creator.BasePointer, (nint)attached.BasePointer);
        }

        AssertSharedBytes(creator, byHandle, seed: 1);
        AssertSharedBytes(byNumber, creator, seed: 2);
        AssertSharedBytes(byHandle, byNumber, seed: 3);
    }

    [Fact]
    public void Attach_keeps_its_own_descriptor()
    {
        var creator = SharedRegion.CreateAnonymous(ThreeParts());
        SharedRegion attached;
        try
        {
            attached = SharedRegion.Attach(creator.FileHandle);
            Assert.NotEqual(creator.FdHandle.Fd, attached.FdHandle.Fd);
            // The caller still owns the handle it passed.
            Assert.False(creator.FileHandle.IsClosed);
            var part = creator.Parts[2];
            RegionPattern.Fill(PartBytes(creator, part), 5);
        }
        finally
        {
            creator.Dispose();
        }

        using (attached)
        {
            // The creator's fd and mapping are gone; ours still work.
            Assert.Equal(-1, RegionPattern.FirstMismatch(PartBytes(attached, attached.Parts[2]), 5));
            using var again = SharedRegion.Attach(attached.FileHandle);
            Assert.Equal(attached.Epoch, again.Epoch);
        }
    }

    [Fact]
    public void Named_region_is_created_0600_and_opened_by_name()
    {
        string name = _names.New();
        using var creator = SharedRegion.CreateNamed(name, 3, ThreeParts());
        string path = Path.Combine(SharedRegion.SharedMemoryDirectory, name);

        Assert.Equal(name, creator.Name);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.Equal(creator.Size, new FileInfo(path).Length);

        using var opened = SharedRegion.OpenNamed(name);
        Assert.False(opened.IsCreator);
        Assert.Equal(name, opened.Name);
        Assert.Equal(creator.Epoch, opened.Epoch);
        Assert.Equal(3u, opened.RegionKind);
        Assert.Equal(creator.Parts, opened.Parts);
        AssertSharedBytes(creator, opened, seed: 11);
        AssertSharedBytes(opened, creator, seed: 12);

        // A named region's descriptor can be passed on as well.
        using var byFd = SharedRegion.Attach(opened.FileHandle);
        AssertSharedBytes(byFd, creator, seed: 13);
    }

    [Fact]
    public void An_explicit_mode_is_applied_regardless_of_the_umask()
    {
        string name = _names.New();
        const UnixFileMode mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite;
        // The usual umask 022 would turn 0660 into 0640 if the mode were only passed to open(2).
        using var region = SharedRegion.CreateNamed(name, mode, 0, ThreeParts());
        Assert.Equal(mode, File.GetUnixFileMode(Path.Combine(SharedRegion.SharedMemoryDirectory, name)));
    }

    [Fact]
    public void Creating_a_name_twice_fails_with_EEXIST_and_leaves_the_first_region_alone()
    {
        string name = _names.New();
        using var first = SharedRegion.CreateNamed(name, 0, ThreeParts());

        var e = Assert.Throws<UintrIpcException>(() => SharedRegion.CreateNamed(name, 0, ThreeParts()));
        Assert.Equal(LibC.EEXIST, e.Errno);
        Assert.Contains(name, e.Message, StringComparison.Ordinal);
        Assert.Contains("creator is still running", e.Message, StringComparison.Ordinal); // and what to do then
        Assert.Contains("dispose that channel first", e.Message, StringComparison.Ordinal);

        // The failed create must not have unlinked or re-initialised the existing region.
        using var opened = SharedRegion.OpenNamed(name);
        Assert.Equal(first.Epoch, opened.Epoch);
    }

    /// <summary>
    /// Two creators of one name: B finds A's file just created and not yet locked, judges it stale
    /// (empty, creator lock free), unlinks it, drops the lock with its descriptor and creates its
    /// own; only then does A take the lock of its file, which no name leads to any more. A must
    /// fail: were it to go on, it would serve a region nobody can open, and its dispose (a
    /// channel's Close unlinks the name) would remove B's name. The hook widens the instant
    /// between A's create and its lock (review27). A creates the name O_EXCL (the way kept where
    /// there is no O_TMPFILE, and earlier versions' way: the unnamed way has no such instant); B
    /// either way: unnamed, its linkat meets A's file (EEXIST) and replaces it as stale.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_creator_whose_new_file_is_replaced_before_it_locks_it_fails_with_EEXIST_and_leaves_the_winner_alone(bool winnerUnnamed)
    {
        string name = _names.New();
        string path = Path.Combine(SharedRegion.SharedMemoryDirectory, name);
        SharedRegion? winner = null;
        SharedRegion? loser = null;
        int entered = 0;
        int creates = 0;
        SharedRegion.CreateInPlaceForTests = p => p == path && (Interlocked.Increment(ref creates) == 1 || !winnerUnnamed);
        SharedRegion.CreatedBeforeLockForTests = p =>
        {
            if (p == path && Interlocked.Exchange(ref entered, 1) == 0)
            {
                winner = SharedRegion.CreateNamed(name, 5, ThreeParts()); // B, in A's window: replaces A's empty file
            }
        };
        try
        {
            var e = Assert.Throws<UintrIpcException>(() => loser = SharedRegion.CreateNamed(name, 4, ThreeParts()));
            Assert.Equal(LibC.EEXIST, e.Errno);
            Assert.Contains("has it now", e.Message, StringComparison.Ordinal);
            Assert.NotNull(winner);

            // The name leads to B's region, and A's failure removed nothing.
            using var opened = SharedRegion.OpenNamed(name, s_shortTimeout);
            Assert.Equal(winner!.Epoch, opened.Epoch);
            Assert.Equal(5u, opened.RegionKind);
        }
        finally
        {
            SharedRegion.CreatedBeforeLockForTests = null;
            SharedRegion.CreateInPlaceForTests = null;
            loser?.Dispose();
            winner?.Dispose();
        }
    }

    /// <summary>
    /// A symbolic link or a directory at the name is no region: the EEXIST says so and what to do,
    /// rather than "dispose the channel that has it", and leaves it and what it leads to alone (review27).
    /// </summary>
    [Fact]
    public void A_name_taken_by_a_symbolic_link_or_a_directory_fails_with_EEXIST_saying_it_is_not_a_region_file()
    {
        string target = _names.New();
        string targetPath = Path.Combine(SharedRegion.SharedMemoryDirectory, target);
        byte[] foreign = new byte[64]; // zeros: taken for an unpublished region were it opened through the link
        File.WriteAllBytes(targetPath, foreign);
        string link = _names.New();
        string linkPath = Path.Combine(SharedRegion.SharedMemoryDirectory, link);
        File.CreateSymbolicLink(linkPath, targetPath);
        string dir = _names.New();
        string dirPath = Path.Combine(SharedRegion.SharedMemoryDirectory, dir);
        Directory.CreateDirectory(dirPath);
        try
        {
            foreach (string name in new[] { link, dir })
            {
                var e = Assert.Throws<UintrIpcException>(() => SharedRegion.CreateNamed(name, 0, ThreeParts()));
                Assert.Equal(LibC.EEXIST, e.Errno);
                Assert.Contains("not a region file of this user", e.Message, StringComparison.Ordinal);
            }

            Assert.NotNull(new FileInfo(linkPath).LinkTarget);
            Assert.Equal(foreign, File.ReadAllBytes(targetPath));
            Assert.True(Directory.Exists(dirPath));
        }
        finally
        {
            File.Delete(linkPath);
            Directory.Delete(dirPath);
        }
    }

    [Fact]
    public void Opening_a_missing_name_fails_with_ENOENT_and_a_hint()
    {
        string name = _names.New();
        var e = Assert.Throws<UintrIpcException>(() => SharedRegion.OpenNamed(name, s_shortTimeout));
        Assert.Equal(LibC.ENOENT, e.Errno);
        Assert.Contains(name, e.Message, StringComparison.Ordinal);
        Assert.Contains("has the creator started?", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("a/b")]
    [InlineData("/abs")]
    [InlineData(".")]
    [InlineData("..")]
    [InlineData("nul\0inside")]
    public void Invalid_names_are_rejected(string name)
    {
        Assert.ThrowsAny<ArgumentException>(() => SharedRegion.CreateNamed(name, 0, ThreeParts()));
        Assert.ThrowsAny<ArgumentException>(() => SharedRegion.OpenNamed(name, s_shortTimeout));
        Assert.ThrowsAny<ArgumentException>(() => SharedRegion.Unlink(name));
    }

    [Fact]
    public void Names_longer_than_255_bytes_and_null_names_are_rejected()
    {
        Assert.ThrowsAny<ArgumentException>(() => SharedRegion.CreateNamed(new string('x', 256), 0, ThreeParts()));
        // 128 two-byte characters: 256 bytes.
        Assert.ThrowsAny<ArgumentException>(() => SharedRegion.OpenNamed(new string('é', 128), s_shortTimeout));
        Assert.Throws<ArgumentNullException>(() => SharedRegion.OpenNamed(null!, s_shortTimeout));
    }

    [Fact]
    public void Unlink_removes_the_name_but_mappings_stay_valid()
    {
        string name = _names.New();
        string path = Path.Combine(SharedRegion.SharedMemoryDirectory, name);
        using var creator = SharedRegion.CreateNamed(name, 0, ThreeParts());
        using var opened = SharedRegion.OpenNamed(name);

        Assert.True(creator.Unlink());
        Assert.False(File.Exists(path));
        Assert.False(creator.Unlink());
        Assert.False(SharedRegion.Unlink(name));
        Assert.Equal(LibC.ENOENT, Assert.Throws<UintrIpcException>(() => SharedRegion.OpenNamed(name, s_shortTimeout)).Errno);

        // The pages live on while mapped.
        AssertSharedBytes(creator, opened, seed: 21);
        // The name is free again.
        using var reborn = SharedRegion.CreateNamed(name, 0, ThreeParts());
        Assert.NotEqual(creator.Epoch, reborn.Epoch);
    }

    /// <summary>
    /// A creator's name deleted by hand while it runs (File.Delete, rm) and created again by
    /// another creator: the first one's Unlink (what its channel's dispose does) must not remove
    /// the name the second one now holds (review27).
    /// </summary>
    [Fact]
    public void Unlink_leaves_a_name_that_leads_to_another_region_alone()
    {
        string name = _names.New();
        string path = Path.Combine(SharedRegion.SharedMemoryDirectory, name);
        using var first = SharedRegion.CreateNamed(name, 0, ThreeParts());
        File.Delete(path);
        using var second = SharedRegion.CreateNamed(name, 0, ThreeParts());

        Assert.False(first.Unlink());
        Assert.True(File.Exists(path));
        using var opened = SharedRegion.OpenNamed(name, s_shortTimeout);
        Assert.Equal(second.Epoch, opened.Epoch);

        Assert.True(second.Unlink());
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void Unlink_of_an_anonymous_region_does_nothing()
    {
        using var region = SharedRegion.CreateAnonymous(ThreeParts());
        Assert.False(region.Unlink());
    }

    [Fact]
    public void Dispose_is_idempotent_and_later_use_throws()
    {
        var region = SharedRegion.CreateAnonymous(ThreeParts());
        var handle = region.FileHandle;
        var part = region.Parts[0];
        region.Dispose();
        region.Dispose();

        Assert.True(handle.IsClosed);
        Assert.Throws<ObjectDisposedException>(() => region.Epoch);
        Assert.Throws<ObjectDisposedException>(() => region.State);
        Assert.Throws<ObjectDisposedException>(() => (nint)region.BasePointer);
        Assert.Throws<ObjectDisposedException>(() => (nint)region.PartPointer(part));
        Assert.Throws<ObjectDisposedException>(region.MarkClosed);
        Assert.Throws<ObjectDisposedException>(() => SharedRegion.Attach(handle));
    }

    [Fact]
    public void Memfd_regions_are_sealed_against_resizing()
    {
        using var region = SharedRegion.CreateAnonymous(ThreeParts());
        int fd = region.FdHandle.Fd;

        Assert.Equal(-1, LibC.ftruncate(fd, region.Size * 2));
        Assert.Equal(LibC.EPERM, LibC.errno);
        Assert.Equal(-1, LibC.ftruncate(fd, 0));
        Assert.Equal(LibC.EPERM, LibC.errno);

        int seals = LibC.fcntl(fd, LibC.F_GET_SEALS);
        Assert.Equal(LibC.F_SEAL_SHRINK | LibC.F_SEAL_GROW | LibC.F_SEAL_SEAL, seals & (LibC.F_SEAL_SHRINK | LibC.F_SEAL_GROW | LibC.F_SEAL_SEAL));
        // The seals are sealed too: nobody can loosen them.
        Assert.Equal(-1, LibC.fcntl(fd, LibC.F_ADD_SEALS, LibC.F_SEAL_WRITE));
        Assert.Equal(LibC.EPERM, LibC.errno);
    }

    [Fact]
    public void FindPart_finds_by_kind_and_tag()
    {
        using var region = SharedRegion.CreateAnonymous(ThreeParts());
        Assert.Equal(region.Parts[0], region.FindPart(PartKind.User, 1));
        Assert.Equal(region.Parts[2], region.FindPart(PartKind.User, 2));
        Assert.Equal(region.Parts[1], region.FindPart(PartKind.Arena));

        var e = Assert.Throws<KeyNotFoundException>(() => region.FindPart(PartKind.User, 3));
        Assert.Contains("User/1, Arena/0, User/2", e.Message, StringComparison.Ordinal);
        Assert.Throws<KeyNotFoundException>(() => region.FindPart(PartKind.WaitBlock));
    }

    [Fact]
    public void PartPointer_rejects_a_part_of_another_region()
    {
        using var a = SharedRegion.CreateAnonymous(ThreeParts());
        using var b = SharedRegion.CreateAnonymous(new PartSpec(PartKind.User, 1, 64));
        Assert.Throws<ArgumentException>(() => (nint)b.PartPointer(a.Parts[2]));
        Assert.Throws<ArgumentException>(() => (nint)b.PartPointer(a.Parts[0]));
    }

    [Fact]
    public void Bad_part_specs_are_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => SharedRegion.CreateAnonymous(new PartSpec(PartKind.User, 0, 0)));
        Assert.Throws<ArgumentOutOfRangeException>(() => SharedRegion.CreateAnonymous(new PartSpec(PartKind.User, 0, -5)));
        var tooMany = Enumerable.Range(0, RegionLayout.MaxParts + 1).Select(i => new PartSpec(PartKind.User, (uint)i, 8)).ToArray();
        Assert.Throws<ArgumentOutOfRangeException>(() => SharedRegion.CreateAnonymous(tooMany));

        // A failed named create removes its file.
        string name = _names.New();
        Assert.Throws<ArgumentOutOfRangeException>(() => SharedRegion.CreateNamed(name, 0, tooMany));
        Assert.False(File.Exists(Path.Combine(SharedRegion.SharedMemoryDirectory, name)));
    }

    [Fact]
    public void A_failing_initializer_leaves_no_named_file_behind()
    {
        string name = _names.New();
        var spec = new PartSpec(PartKind.User, 0, 64, (_, _) => throw new InvalidOperationException("boom"));
        Assert.Throws<InvalidOperationException>(() => SharedRegion.CreateNamed(name, 0, spec));
        Assert.False(File.Exists(Path.Combine(SharedRegion.SharedMemoryDirectory, name)));
    }

    [Fact]
    public void A_full_part_table_round_trips()
    {
        var specs = Enumerable.Range(0, RegionLayout.MaxParts).Select(i => new PartSpec((PartKind)((uint)PartKind.User + (uint)i), (uint)(100 + i), 1 + (i * 77))).ToArray();
        using var creator = SharedRegion.CreateAnonymous(specs);
        using var attached = SharedRegion.Attach(creator.FileHandle);
        Assert.Equal(RegionLayout.MaxParts, attached.Parts.Count);
        for (int i = 0; i < specs.Length; i++)
        {
            Assert.Equal(specs[i].Kind, attached.Parts[i].Kind);
            Assert.Equal(specs[i].Tag, attached.Parts[i].Tag);
            Assert.Equal(specs[i].Length, attached.Parts[i].Length);
        }
    }

    [Fact]
    public void MarkClosed_is_seen_by_attachers()
    {
        using var creator = SharedRegion.CreateAnonymous(ThreeParts());
        using var attached = SharedRegion.Attach(creator.FileHandle);
        Assert.Equal(RegionState.Ready, attached.State);
        creator.MarkClosed();
        Assert.Equal(RegionState.Closed, attached.State);
    }

    [Fact]
    public void Init_timeouts_must_be_bounded()
    {
        using var region = SharedRegion.CreateAnonymous(ThreeParts());
        Assert.Throws<ArgumentOutOfRangeException>(() => SharedRegion.Attach(region.FileHandle, Timeout.InfiniteTimeSpan));
        Assert.Throws<ArgumentOutOfRangeException>(() => SharedRegion.Attach(region.FileHandle, TimeSpan.MaxValue));
        using var zero = SharedRegion.Attach(region.FileHandle, TimeSpan.Zero);
        Assert.Equal(region.Epoch, zero.Epoch);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(int.MaxValue)]
    public void Attach_of_an_invalid_descriptor_number_fails_with_EBADF(int fd)
    {
        var e = Assert.Throws<UintrIpcException>(() => SharedRegion.Attach(fd, s_shortTimeout));
        Assert.Equal(LibC.EBADF, e.Errno);
        Assert.Contains("still open", e.Message, StringComparison.Ordinal);
    }

    internal static Span<byte> PartBytes(SharedRegion region, RegionPart part) => new(region.PartPointer(part), checked((int)part.Length));

    /// <summary>Writes a pattern into every part through <paramref name="writer"/> and reads it back through <paramref name="reader"/>.</summary>
    private static void AssertSharedBytes(SharedRegion writer, SharedRegion reader, int seed)
    {
        for (int i = 0; i < writer.Parts.Count; i++)
        {
            RegionPattern.Fill(PartBytes(writer, writer.Parts[i]), seed + i);
        }

        for (int i = 0; i < reader.Parts.Count; i++)
        {
            Assert.Equal(-1, RegionPattern.FirstMismatch(PartBytes(reader, reader.Parts[i]), seed + i));
        }
    }
}
