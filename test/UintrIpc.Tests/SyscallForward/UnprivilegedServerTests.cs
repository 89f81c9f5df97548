using System.Text;
using SyscallForward.Client;
using SyscallForward.Executor;
using Tmds.Linux;
using UintrIpc.Bootstrap;
using UintrIpc.Rpc;
using UintrIpc.Tests.Bootstrap;
using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.SyscallForward;

/// <summary>
/// `SyscallForward serve` running as an unprivileged user (uid 65534, dropped with setpriv),
/// serving a client of another user (this test, root) that it allows with --allow-uid: the
/// kernel's EACCES for what that user may not open reaches the client unchanged. Root bypasses
/// file permissions, so this is the only place EACCES is checked for real when tests run as root.
/// </summary>
[Collection(CrossProcessCollection.Name)]
public sealed unsafe class UnprivilegedServerTests(ITestOutputHelper output) : IDisposable
{
    private const uint Nobody = 65534;
    private const int ORdOnly = 0, OWrOnly = 1, ORdWr = 2, OCreat = 0x40;
    private const int EACCES = 13, EXDEV = 18;

    private readonly ScratchTree _tree = new();
    private readonly string _endpoint = SocketNames.NewAbstract("fwdu");

    public void Dispose() => _tree.Dispose();

    [Theory]
    [InlineData(ConfinementMode.Auto)]
    [InlineData(ConfinementMode.Walk)]
    public void A_server_running_as_an_unprivileged_user_answers_EACCES(ConfinementMode mode)
    {
        Assert.SkipUnless(LibC.geteuid() == 0,
            "only root can start the server as another user; as a non-root user, ConfinementTests.Answers_EACCES_for_a_file_without_permission checks EACCES in process");
        string setpriv = ExternalProgram.FindOnPath("setpriv")
            ?? throw new InvalidOperationException("setpriv (util-linux) is needed to run the server as uid 65534; install util-linux");

        // The tree belongs to the unprivileged user, except what it must not reach.
        ChangeOwner(_tree.Base, Nobody);
        ChangeOwner(_tree.Root, Nobody);
        ChangeOwner(_tree.WriteFile("open.txt", "open\n"), Nobody);
        ChangeOwner(_tree.WriteFile("readonly.txt", "read only\n"), Nobody);
        File.SetUnixFileMode(Path.Combine(_tree.Root, "readonly.txt"), UnixFileMode.UserRead);
        File.SetUnixFileMode(_tree.WriteFile("locked.txt", "root's\n"), UnixFileMode.UserRead | UnixFileMode.UserWrite);
        _tree.WriteFile("locked-dir/f.txt", "behind a locked directory\n");
        File.SetUnixFileMode(Path.Combine(_tree.Root, "locked-dir"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        Directory.CreateDirectory(Path.Combine(_tree.Root, "root-dir")); // 0755, root's: no new files for others

        using var server = ForwardServerProcess.StartFrom(ProgramDirectoryFor(Nobody), output, [setpriv, $"--reuid={Nobody}", $"--regid={Nobody}", "--clear-groups"], "serve: ready",
            "serve", "--socket", _endpoint, "--root", _tree.Root, "--confinement", mode.ToString().ToLowerInvariant(), "--allow-uid", "0");
        Assert.Contains($"uid={Nobody} ", server.Output, StringComparison.Ordinal);

        using (var client = ForwardClient.Connect(_endpoint, new RpcClientOptions { ServerPolicy = PeerPolicy.AllowUsers(Nobody) }))
        {
            Assert.Equal(Nobody, client.Rpc.Server.Uid);
            int fd = client.Open("open.txt", ORdOnly);
            byte[] buffer = new byte[64];
            Assert.Equal(5, client.Read(fd, buffer));
            client.Close(fd);
            client.Close(client.Open("readonly.txt", ORdOnly));

            Assert.Equal(-EACCES, OpenRaw(client, "locked.txt", ORdOnly));
            Assert.Equal(-EACCES, OpenRaw(client, "readonly.txt", ORdWr));
            Assert.Equal(-EACCES, OpenRaw(client, "locked-dir/f.txt", ORdOnly));
            Assert.Equal(-EACCES, OpenRaw(client, "root-dir/new.txt", OWrOnly | OCreat));
            var error = Assert.Throws<UintrIpcException>(() => client.Open("locked.txt", ORdOnly));
            Assert.Equal(EACCES, error.Errno);
            Assert.Equal(-EXDEV, OpenRaw(client, "../outside/secret.txt", ORdOnly)); // confinement first, as ever

            client.Close(client.Open("made.txt", OWrOnly | OCreat));
        }

        server.Stop();
        Assert.False(File.Exists(Path.Combine(_tree.Root, "root-dir", "new.txt")));
        Assert.Equal(Nobody, OwnerOf(Path.Combine(_tree.Root, "made.txt"))); // created by the unprivileged server
        Assert.Matches(@"openat\s+\d+ calls\s+6 failed", server.Output);
    }

    /// <summary>
    /// The test's output folder if another user can run the server from it; otherwise (a checkout
    /// under a 0700 directory, such as a mktemp clone) a copy of it inside the scratch tree, which
    /// that user owns.
    /// </summary>
    private string ProgramDirectoryFor(uint uid)
    {
        string program = AppContext.BaseDirectory.TrimEnd('/');
        if (OthersCanReach(program))
        {
            return program;
        }

        string copy = Path.Combine(_tree.Base, "program");
        foreach (string file in Directory.EnumerateFiles(program, "*", SearchOption.AllDirectories))
        {
            string target = Path.Combine(copy, Path.GetRelativePath(program, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }

        foreach (string entry in Directory.EnumerateFileSystemEntries(copy, "*", SearchOption.AllDirectories).Append(copy))
        {
            ChangeOwner(entry, uid);
        }

        output.WriteLine($"{program} is not reachable by uid {uid}: the server runs from a copy in {copy}");
        return copy;
    }

    private static bool OthersCanReach(string directory)
    {
        for (var d = new DirectoryInfo(directory); d is not null; d = d.Parent)
        {
            if ((d.UnixFileMode & UnixFileMode.OtherExecute) == 0)
            {
                return false;
            }
        }

        return (File.GetUnixFileMode(Path.Combine(directory, "SyscallForward.dll")) & UnixFileMode.OtherRead) != 0;
    }

    private static long OpenRaw(ForwardClient client, string path, int flags)
        => client.Call((uint)ForwardOpcode.OpenAt, new RpcArgs(ForwardClient.AtRoot, flags, 0x1A4), Encoding.UTF8.GetBytes(path)).Value;

    private static void ChangeOwner(string path, uint uid)
    {
        fixed (byte* p = Encoding.UTF8.GetBytes(path + "\0"))
        {
            Assert.True(LibC.lchown(p, uid, uid) == 0, $"lchown {path}: errno {LibC.errno}");
        }
    }

    private static uint OwnerOf(string path)
    {
        stat st;
        fixed (byte* p = Encoding.UTF8.GetBytes(path + "\0"))
        {
            Assert.True(LibC.lstat(p, &st) == 0, $"lstat {path}: errno {LibC.errno}");
        }

        return st.st_uid;
    }
}
