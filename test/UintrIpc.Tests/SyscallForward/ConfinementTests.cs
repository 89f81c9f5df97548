using System.Text;
using SyscallForward.Executor;
using Tmds.Linux;

namespace UintrIpc.Tests.SyscallForward;

/// <summary>
/// Opens through <see cref="ConfinedDirectory"/> stay beneath the served directory, with openat2
/// (where the kernel has it) and with the fallback walk, and fail with the errno the kernel gives.
/// </summary>
public sealed class ConfinementTests : IDisposable
{
    private const int ORdOnly = 0, OWrOnly = 1, ORdWr = 2, OCreat = 0x40, OExcl = 0x80, ODirectory = 0x10000, ONoFollow = 0x20000, OPath = 0x200000;
    private const int EXDEV = 18, ENOENT = 2, ELOOP = 40, EINVAL = 22, ENAMETOOLONG = 36, EACCES = 13, EEXIST = 17, ENOTDIR = 20;

    private readonly ScratchTree _tree = new();

    public static TheoryData<ConfinementMode> Modes => [ConfinementMode.Walk, ConfinementMode.OpenAt2];

    public void Dispose() => _tree.Dispose();

    [Theory]
    [MemberData(nameof(Modes))]
    public void Opens_files_and_directories_beneath_the_root(ConfinementMode mode)
    {
        using var root = Open(mode);
        _tree.WriteFile("a.txt", "alpha");
        _tree.WriteFile("sub/dir/b.txt", "beta");

        Assert.Equal("alpha", ReadAll(Expect(root.Open(-1, "a.txt"u8, ORdOnly, 0))));
        Assert.Equal("beta", ReadAll(Expect(root.Open(-1, "sub/dir/b.txt"u8, ORdOnly, 0))));
        Assert.Equal("beta", ReadAll(Expect(root.Open(-1, "./sub//dir/./b.txt"u8, ORdOnly, 0))));
        Close(Expect(root.Open(-1, "sub/dir"u8, ORdOnly | ODirectory, 0)));
        Close(Expect(root.Open(-1, "."u8, ORdOnly | ODirectory, 0)));
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void Creates_files_with_only_the_permission_bits(ConfinementMode mode)
    {
        using var root = Open(mode);
        int fd = Expect(root.Open(-1, "new.txt"u8, OWrOnly | OCreat | OExcl, 0x1000 | 0x800 | 0x1A4)); // S_ISVTX | S_ISUID | 0644
        Close(fd);
        var info = new FileInfo(Path.Combine(_tree.Root, "new.txt"));
        Assert.True(info.Exists);
        Assert.False(info.UnixFileMode.HasFlag(UnixFileMode.SetUser), "the set-user-id bit came through");
        Assert.Equal(-EEXIST, root.Open(-1, "new.txt"u8, OWrOnly | OCreat | OExcl, 0x1A4));
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void Refuses_dot_dot_and_absolute_paths_with_EXDEV(ConfinementMode mode)
    {
        using var root = Open(mode);
        _tree.WriteFile("sub/x.txt", "x");
        Assert.Equal(-EXDEV, root.Open(-1, "../outside/secret.txt"u8, ORdOnly, 0));
        Assert.Equal(-EXDEV, root.Open(-1, "sub/../../outside/secret.txt"u8, ORdOnly, 0));
        Assert.Equal(-EXDEV, root.Open(-1, "sub/../sub/x.txt"u8, ORdOnly, 0)); // no ".." at all, even one that stays inside
        Assert.Equal(-EXDEV, root.Open(-1, Encoding.UTF8.GetBytes(Path.Combine(_tree.Outside, "secret.txt")), ORdOnly, 0));
        Assert.Equal(-EXDEV, root.Open(-1, "/etc/passwd"u8, ORdOnly, 0));
        Assert.Equal(-EXDEV, root.Open(-1, ".."u8, ORdOnly | ODirectory, 0));
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void Follows_links_that_stay_inside(ConfinementMode mode)
    {
        using var root = Open(mode);
        _tree.WriteFile("data/real.txt", "real");
        _tree.Link("direct", "data/real.txt");
        _tree.Link("data/sibling", "real.txt");
        _tree.Link("dirlink", "data");
        Directory.CreateDirectory(Path.Combine(_tree.Root, "deep/er"));
        _tree.Link("deep/er/up", "../../data/real.txt"); // ".." inside a link target that stays beneath

        Assert.Equal("real", ReadAll(Expect(root.Open(-1, "direct"u8, ORdOnly, 0))));
        Assert.Equal("real", ReadAll(Expect(root.Open(-1, "data/sibling"u8, ORdOnly, 0))));
        Assert.Equal("real", ReadAll(Expect(root.Open(-1, "dirlink/real.txt"u8, ORdOnly, 0))));
        Assert.Equal("real", ReadAll(Expect(root.Open(-1, "deep/er/up"u8, ORdOnly, 0))));
        Assert.Equal(-ELOOP, root.Open(-1, "direct"u8, ORdOnly | ONoFollow, 0));
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void Refuses_links_that_lead_outside(ConfinementMode mode)
    {
        using var root = Open(mode);
        _tree.Link("abs", Path.Combine(_tree.Outside, "secret.txt"));
        _tree.Link("rel", "../outside/secret.txt");
        _tree.Link("outdir", "../outside");
        _tree.Link("etc", "/etc");
        Directory.CreateDirectory(Path.Combine(_tree.Root, "a"));
        _tree.Link("a/climb", "../../outside/secret.txt");

        Assert.Equal(-EXDEV, root.Open(-1, "abs"u8, ORdOnly, 0));
        Assert.Equal(-EXDEV, root.Open(-1, "rel"u8, ORdOnly, 0));
        Assert.Equal(-EXDEV, root.Open(-1, "outdir/secret.txt"u8, ORdOnly, 0));
        Assert.Equal(-EXDEV, root.Open(-1, "etc/passwd"u8, ORdOnly, 0));
        Assert.Equal(-EXDEV, root.Open(-1, "a/climb"u8, ORdOnly, 0));
        // Creating through a link that leads outside must not create the file there.
        _tree.Link("dangling", "../outside/created.txt");
        Assert.Equal(-EXDEV, root.Open(-1, "dangling"u8, OWrOnly | OCreat, 0x1A4));
        Assert.False(File.Exists(Path.Combine(_tree.Outside, "created.txt")));
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void Answers_the_kernel_errno_for_ordinary_failures(ConfinementMode mode)
    {
        using var root = Open(mode);
        _tree.WriteFile("f.txt", "f");
        _tree.Link("loop1", "loop2");
        _tree.Link("loop2", "loop1");

        Assert.Equal(-ENOENT, root.Open(-1, "missing.txt"u8, ORdOnly, 0));
        Assert.Equal(-ENOENT, root.Open(-1, "nodir/missing.txt"u8, ORdOnly, 0));
        Assert.Equal(-ENOENT, root.Open(-1, ""u8, ORdOnly, 0));
        Assert.Equal(-ENOTDIR, root.Open(-1, "f.txt/x"u8, ORdOnly, 0));
        Assert.Equal(-ELOOP, root.Open(-1, "loop1"u8, ORdOnly, 0));
        Assert.Equal(-EINVAL, root.Open(-1, "f.txt"u8, ORdOnly | OPath, 0));
        Assert.Equal(-EINVAL, root.Open(-1, "f.txt"u8, 3, 0)); // O_ACCMODE
        Assert.Equal(-EINVAL, root.Open(-1, "f.t\0xt"u8, ORdOnly, 0));
        Assert.Equal(-ENAMETOOLONG, root.Open(-1, new byte[ConfinedDirectory.PathMax + 1], ORdOnly, 0));
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void Answers_EACCES_for_a_file_without_permission(ConfinementMode mode)
    {
        Assert.SkipWhen(LibC.geteuid() == 0, "root bypasses file permissions, so the kernel never answers EACCES in this process (UnprivilegedServerTests checks EACCES with the server running as uid 65534)");
        using var root = Open(mode);
        string path = _tree.WriteFile("locked.txt", "x");
        File.SetUnixFileMode(path, UnixFileMode.None);
        Assert.Equal(-EACCES, root.Open(-1, "locked.txt"u8, ORdWr, 0));
    }

    [Fact]
    public void Auto_uses_openat2_where_the_kernel_has_it()
    {
        using var root = new ConfinedDirectory(_tree.Root);
        Assert.Equal(KernelHasOpenAt2() ? ConfinementMode.OpenAt2 : ConfinementMode.Walk, root.Mode);
    }

    internal static bool KernelHasOpenAt2()
    {
        try
        {
            using var probe = new ConfinedDirectory("/", ConfinementMode.OpenAt2);
            return true;
        }
        catch (UintrIpcException)
        {
            return false;
        }
    }

    private static int Expect(int fd)
    {
        Assert.True(fd >= 0, $"open failed with errno {-fd}");
        return fd;
    }

    private static unsafe string ReadAll(int fd)
    {
        try
        {
            byte[] buffer = new byte[4096];
            fixed (byte* p = buffer)
            {
                long n = LibC.read(fd, p, buffer.Length);
                Assert.True(n >= 0, $"read failed with errno {LibC.errno}");
                return Encoding.UTF8.GetString(buffer, 0, (int)n);
            }
        }
        finally
        {
            Close(fd);
        }
    }

    private static void Close(int fd) => Assert.Equal(0, LibC.close(fd));

    private ConfinedDirectory Open(ConfinementMode mode)
    {
        Assert.SkipWhen(mode == ConfinementMode.OpenAt2 && !KernelHasOpenAt2(), "this kernel has no openat2 (Linux 5.6+); the walk mode is tested instead");
        var root = new ConfinedDirectory(_tree.Root, mode);
        Assert.Equal(mode, root.Mode);
        return root;
    }
}
