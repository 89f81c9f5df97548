using System.Runtime.InteropServices;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Tmds.Linux;
using UintrIpc.Interop;
using UintrIpc.Signaling;

namespace UintrIpc.Memory;

/// <summary>
/// A shared-memory region: a header, a part table and the parts (rings, wait blocks,
/// arenas), mapped <c>MAP_SHARED</c> so that several processes see the same bytes.
/// </summary>
/// <remarks>
/// <para>Create one with <see cref="CreateAnonymous(uint, ReadOnlySpan{PartSpec})"/> (memfd, shared by passing
/// <see cref="FileHandle"/>) or <see cref="CreateNamed(string, uint, ReadOnlySpan{PartSpec})"/> (a file under
/// /dev/shm, shared by name); attach with <see cref="Attach(SafeHandle, TimeSpan?)"/> or <see cref="OpenNamed(string, TimeSpan?, bool)"/>.</para>
/// <para>Lifetime: the mapping is leased. The region object holds one lease and every ring
/// (and every channel endpoint and blocking wait) holds its own; <see cref="Dispose"/> drops
/// only the region's lease, and the memory is unmapped when the last lease is released,
/// whatever thread disposes what. So a ring keeps working after its region was disposed, and
/// disposing in any order never unmaps memory that something still uses.</para>
/// <para>Inside the library, a holder calls <c>AddLease()</c> (or <c>TryAddLease()</c>) when it
/// starts using the mapping and <c>ReleaseLease()</c> exactly once when it stops; a blocking
/// wait may take a lease for its duration. Leases are a reference count, taken per object
/// or per wait, never per message.</para>
/// <para>Layout, attach rules and the protocol of each part: interop/include/uintripc.h, section 1.</para>
/// </remarks>
[DebuggerDisplay("{DebuggerDisplay,nq}")]
internal sealed unsafe partial class SharedRegion : IDisposable
{
    /// <summary>The directory named regions live in.</summary>
    public const string SharedMemoryDirectory = "/dev/shm";

    /// <summary>The longest name a file under <see cref="SharedMemoryDirectory"/> may have, in bytes (NAME_MAX).</summary>
    private const int MaxNameBytes = 255;

    /// <summary>How long an attacher waits for a creator to publish the header, by default.</summary>
    public static readonly TimeSpan DefaultInitTimeout = TimeSpan.FromSeconds(5);

    private readonly SafeFdHandle _fd;
    private readonly SafeMappingHandle _mapping;
    private readonly byte* _base;
    private readonly RegionPart[] _parts;
    private int _disposed;
    // The region's own lease plus one per holder; the mapping goes when it reaches zero.
    private int _leases = 1;
    /// <summary>The longest pause between two checks of a deferred unmap, in milliseconds.</summary>
    private const int MaxUnmapRetryMs = 100;
    /// <summary>The timers of deferred unmaps (<see cref="UnmapWhenUnused"/>), rooted until they unmap.</summary>
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<SharedRegion, Timer> s_pendingUnmaps = new();

    private SharedRegion(SafeFdHandle fd, SafeMappingHandle mapping, long size, string? name, bool isCreator)
    {
        _fd = fd;
        _mapping = mapping;
        _base = (byte*)mapping.DangerousGetHandle();
        Size = size;
        Name = name;
        IsCreator = isCreator;
        _parts = ReadAndValidateParts(_base, size);
    }

    /// <summary>The descriptor of the backing file; pass it to a peer (SCM_RIGHTS or inheritance) to share the region.</summary>
    public SafeHandle FileHandle => _fd;

    /// <summary>The same descriptor with its number (internal users and tests).</summary>
    internal SafeFdHandle FdHandle => _fd;

    /// <summary>The first byte of the mapping.</summary>
    public byte* BasePointer => Base;

    /// <summary>Bytes mapped (the header's total size).</summary>
    public long Size { get; }

    /// <summary>The name under /dev/shm, or null for a memfd region.</summary>
    public string? Name { get; }

    /// <summary>Whether this process created (and initialised) the region.</summary>
    public bool IsCreator { get; }

    /// <summary>Random value that changes every time a region is initialised.</summary>
    public ulong Epoch => *(ulong*)(Base + RegionLayout.EpochOffset);

    /// <summary>Process id of the creator.</summary>
    public int CreatorPid => *(int*)(Base + RegionLayout.CreatorPidOffset);

    /// <summary>Application-defined kind given at creation.</summary>
    public uint RegionKind => *(uint*)(Base + RegionLayout.RegionKindOffset);

    /// <summary>The state word (acquire: a peer may change it).</summary>
    internal RegionState State => (RegionState)Volatile.Read(ref *(uint*)(Base + RegionLayout.StateOffset));

    /// <summary>The validated part table.</summary>
    public IReadOnlyList<RegionPart> Parts => _parts;

    private string DebuggerDisplay => Volatile.Read(ref _disposed) != 0 ? $"{Name ?? "memfd"} (disposed)"
        : $"{Name ?? "memfd"} size={Size} parts={_parts.Length} epoch={Epoch:x16} state={State}";

    // The header accessors read the mapping: after Dispose it is unmapped, and a read would crash the process.
    private byte* Base
    {
        get
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
            return _base;
        }
    }

    /// <summary>Creates a region backed by an anonymous memfd (shared by passing <see cref="FileHandle"/>).</summary>
    /// <param name="regionKind">Application-defined kind, checked by peers that care.</param>
    /// <param name="parts">The parts to lay out, in order.</param>
    public static SharedRegion CreateAnonymous(uint regionKind, params ReadOnlySpan<PartSpec> parts)
    {
        var layout = Layout(parts);
        SafeFdHandle fd = CreateMemfd("uintripc");
        try
        {
            SetSize(fd, layout.Total);
            // Fix the size for good: a peer holding the fd can neither shrink it (SIGBUS for us) nor grow it.
            if (LibC.fcntl(fd.Fd, LibC.F_ADD_SEALS, LibC.F_SEAL_SHRINK | LibC.F_SEAL_GROW | LibC.F_SEAL_SEAL) != 0)
            {
                throw UintrIpcException.FromLastError("fcntl(F_ADD_SEALS)");
            }

            return Initialize(fd, regionKind, parts, layout, name: null);
        }
        catch
        {
            fd.Dispose();
            throw;
        }
    }

    /// <summary>Creates a region with no parts of a given kind (for raw use).</summary>
    public static SharedRegion CreateAnonymous(params ReadOnlySpan<PartSpec> parts) => CreateAnonymous(0, parts);

    /// <summary>
    /// Creates a region backed by /dev/shm/<paramref name="name"/>, mode 0600, failing if the
    /// name exists. The creator should <see cref="Unlink()"/> it when done.
    /// </summary>
    public static SharedRegion CreateNamed(string name, uint regionKind, params ReadOnlySpan<PartSpec> parts)
        => CreateNamed(name, UnixFileMode.UserRead | UnixFileMode.UserWrite, regionKind, parts);

    /// <summary>Creates a named region with an explicit file mode (applied as given, not reduced by the umask).</summary>
    /// <remarks>
    /// The name appears only once the region is whole: the region is made in an unnamed file and
    /// then linked to the name (<see cref="CreateUnnamedThenLink"/>), or, where the kernel or a
    /// missing /proc does not allow that, or linkat fails other than with EEXIST, made under the
    /// name created O_EXCL (uintripc.h 1b).
    /// The creator holds the region's creator lock (uintripc.h 1f) from before it publishes the
    /// header until it disposes the region or its process ends. A file of this name left by a creator
    /// that is gone (a region of this layout version, this user's, whose creator lock nobody holds) is
    /// replaced: see <see cref="TryRemoveStale"/>.
    /// </remarks>
    public static SharedRegion CreateNamed(string name, UnixFileMode mode, uint regionKind, params ReadOnlySpan<PartSpec> parts)
    {
        string path = PathOf(name);
        var layout = Layout(parts);
        if (!s_linkRefused && CreateInPlaceForTests?.Invoke(path) != true && TryOpenUnnamed(mode) is { } unnamed
            && CreateUnnamedThenLink(unnamed, name, mode, regionKind, parts, layout) is { } linked)
        {
            return linked;
        }

        SafeFdHandle fd = CreateExclusive(path, mode);
        try
        {
            return InitializeNamed(fd, name, mode, regionKind, parts, layout);
        }
        catch
        {
            try
            {
                // Ours to remove: we hold its creator lock, so no one has replaced it (before the lock is released with fd).
                Unlink(name);
            }
            catch (UintrIpcException)
            {
                // The name stays behind (a later create replaces it: no creator lock); the creation's own error is the one to report.
            }

            fd.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Gives the file of a named create, held under its creator lock, its mode, size and pages, then
    /// writes and publishes the region: the same whether the file is unnamed yet or was created O_EXCL.
    /// </summary>
    private static SharedRegion InitializeNamed(SafeFdHandle fd, string name, UnixFileMode mode, uint regionKind, ReadOnlySpan<PartSpec> parts, (long Total, long[] Offsets) layout)
    {
        string path = PathOf(name);
        // open(2) applies the umask; the caller asked for exactly this mode (e.g. 0660 to share with a group).
        if (LibC.fchmod(fd.Fd, (mode_t)(int)mode) != 0)
        {
            throw UintrIpcException.FromLastError($"fchmod {path}");
        }

        SetSize(fd, layout.Total);
        Reserve(fd, layout.Total, path);
        SizedBeforePublishForTests?.Invoke(path);
        return Initialize(fd, regionKind, parts, layout, name);
    }

    /// <summary>
    /// Tests only: runs between a named create's open (of its unnamed file, or its O_EXCL create)
    /// and its creator lock, with the path, to widen that window (SharedRegionTests,
    /// DeadCreatorOpenTests, UnnamedCreateTests). Null in production: one static load.
    /// </summary>
    internal static Action<string>? CreatedBeforeLockForTests;

    /// <summary>
    /// Tests only: runs once a named create has sized and reserved its file under its creator lock,
    /// before it writes and publishes the header (and, unnamed, before it links the name), with the
    /// path (DeadCreatorOpenTests and UnnamedCreateTests stop or kill the creator there). Null in
    /// production: one static load.
    /// </summary>
    internal static Action<string>? SizedBeforePublishForTests;

    /// <summary>
    /// Creates <paramref name="path"/> (O_EXCL) and takes its creator lock before anything else can
    /// be done with it. An existing file whose creator is gone is removed and the create tried again
    /// (twice at most: another creator racing us wins, and we report EEXIST).
    /// </summary>
    private static SafeFdHandle CreateExclusive(string path, UnixFileMode mode)
    {
        for (int attempt = 0; ; attempt++)
        {
            SafeFdHandle? fd = TryOpenPath(path, LibC.O_RDWR | LibC.O_CREAT | LibC.O_EXCL | LibC.O_CLOEXEC, (int)mode, out int errno);
            if (fd is null)
            {
                string? stale = null;
                if (errno == LibC.EEXIST && attempt < 2 && TryRemoveStale(path, out stale))
                {
                    continue;
                }

                throw OpenError("create", path, errno, creating: true, stale);
            }

            CreatedBeforeLockForTests?.Invoke(path);
            bool ours;
            try
            {
                // Before size and header: an opener that sees the header published also sees this lock.
                // Then the name: a replacer unlinks only under this lock, so one that took it in the
                // instant after our create may have unlinked our file and let go already; while we
                // hold the lock and the name leads here, no replacer can take it from us.
                ours = RegionLocks.TryLock(fd, RegionLocks.CreatorByte) && NameLeadsTo(path, fd);
            }
            catch
            {
                fd.Dispose(); // an empty file under no lock: the next create replaces it
                throw;
            }

            if (ours)
            {
                return fd;
            }

            // Another creator took the lock of our new, empty file to replace it as stale (it
            // unlinks it and creates its own): it wins the name. Not ours to unlink any more.
            fd.Dispose();
            throw new UintrIpcException($"create {path}", LibC.EEXIST, "Another process is creating a region of this name at the same moment, and has it now.");
        }
    }

    /// <summary>
    /// Removes the file at <paramref name="path"/> if a dead creator left it: it is this user's, a
    /// region of this layout version (magic published) or one never published (first 8 bytes zero),
    /// and nobody holds its creator lock. We take
    /// that lock before looking, so two creators cannot both remove it, and we unlink only while the
    /// name still leads to the file we locked (a racing creator may have replaced it already). The
    /// lock goes with the descriptor, after the unlink. False (and why, in
    /// <paramref name="reason"/>) when the file is left as it is.
    /// </summary>
    private static bool TryRemoveStale(string path, out string? reason)
    {
        const string NotARegionFile = "It is not a region file of this user: delete it (or pick another name) if no program uses it.";
        reason = null;
        SafeFdHandle? fd = TryOpenPath(path, LibC.O_RDWR | LibC.O_CLOEXEC | LibC.O_NOFOLLOW, 0, out int errno);
        if (fd is null)
        {
            // ENOENT: removed in between, create again. Otherwise a symbolic link (ELOOP), a
            // directory (EISDIR), another user's file (EACCES): nothing of ours.
            reason = errno == LibC.ENOENT ? null : NotARegionFile;
            return errno == LibC.ENOENT;
        }

        using (fd)
        {
            stat st;
            if (LibC.fstat(fd.Fd, &st) != 0 || (st.st_mode & LibC.S_IFMT) != LibC.S_IFREG || st.st_uid != LibC.geteuid())
            {
                reason = NotARegionFile;
                return false;
            }

            if (!RegionLocks.TryLock(fd, RegionLocks.CreatorByte))
            {
                reason = "Its creator is still running (it holds the region's creator lock): dispose that channel first, or pick another name.";
                return false;
            }

            // Our lock alone now: the header cannot be published by anyone else from here on.
            Span<byte> header = stackalloc byte[8];
            nint read;
            fixed (byte* h = header)
            {
                read = (nint)LibC.pread(fd.Fd, h, (size_t)header.Length, 0);
            }

            // Published by a creator of this version; or never published (empty, or its first bytes
            // still zero): a creator killed while creating it, or one that lost its lock to us just
            // after its create, and gives up. Our lock proves that nobody will publish it any more.
            bool unpublished = read == 0 || (read == header.Length && BitConverter.ToUInt64(header) == 0);
            bool ours = read == header.Length && BitConverter.ToUInt32(header) == RegionLayout.Magic && BitConverter.ToUInt16(header[RegionLayout.VersionOffset..]) == RegionLayout.LayoutVersion;
            if (!unpublished && !ours)
            {
                reason = $"Its creator is gone, but it is not a UintrIpc region of layout version {RegionLayout.LayoutVersion} (another program's file, or another version's region): "
                    + $"delete {path} once no process uses it, or pick another name.";
                return false;
            }

            if (!NameLeadsTo(path, fd))
            {
                return true; // the name leads elsewhere already: create again
            }

            byte[] p = Encoding.UTF8.GetBytes(path + "\0");
            fixed (byte* pp = p)
            {
                return LibC.unlink(pp) == 0 || LibC.errno == LibC.ENOENT ? true
                    : throw UintrIpcException.FromLastError($"unlink {path} (left by a creator that is gone)");
            }
        }
    }

    /// <summary>Whether <paramref name="path"/> leads to the file open as <paramref name="fd"/> now (stat against fstat: device and inode).</summary>
    private static bool NameLeadsTo(string path, SafeFdHandle fd)
    {
        stat mine;
        stat now;
        byte[] p = Encoding.UTF8.GetBytes(path + "\0");
        fixed (byte* pp = p)
        {
            return LibC.fstat(fd.Fd, &mine) == 0 && LibC.stat(pp, &now) == 0 && now.st_dev == mine.st_dev && now.st_ino == mine.st_ino;
        }
    }

    /// <summary>Opens the named region /dev/shm/<paramref name="name"/>, waiting up to <paramref name="initTimeout"/> for its creator to publish it.</summary>
    /// <remarks>
    /// The file's size is checked (fstat) against the header at attach. A named file cannot be
    /// sealed: a process with write access to it can truncate it later, and our next access to
    /// the lost pages is a SIGBUS. Keep named regions 0600 (the default), or use sealed memfds
    /// passed over the bootstrap socket when the peer is not trusted (uintripc.h section 1).
    /// A region owned by another user is refused unless <paramref name="allowOtherOwner"/> says
    /// that user is trusted: its owner can rewrite or truncate it at any time.
    /// </remarks>
    /// <exception cref="UintrIpcException">The file cannot be opened, or belongs to another user.</exception>
    /// <exception cref="RegionFormatException">The region's header is invalid.</exception>
    public static SharedRegion OpenNamed(string name, TimeSpan? initTimeout = null, bool allowOtherOwner = false)
        => OpenNamed(name, initTimeout, allowOtherOwner, requireCreator: false);

    /// <summary>
    /// Opens a named region as <see cref="OpenNamed(string, TimeSpan?, bool)"/>; with <paramref name="requireCreator"/>,
    /// refuses one whose creator is gone (nobody holds its creator lock, uintripc.h 1f): at once when
    /// the header is published (the creator locks before it publishes), and while waiting for it as
    /// <see cref="DeadCreatorCheck"/> judges (a creator that follows 1f, not a foreign one that takes no lock).
    /// </summary>
    /// <exception cref="UintrIpcException">The file cannot be opened (a symbolic link: ELOOP), belongs to another user, or its creator is gone.</exception>
    internal static SharedRegion OpenNamed(string name, TimeSpan? initTimeout, bool allowOtherOwner, bool requireCreator)
    {
        ValidateTimeout(initTimeout);
        // O_NOFOLLOW, as shm_open(3) opens (glibc, musl, LLVM libc): a name is a file of /dev/shm,
        // and a link there could lead this process to another of its regions under a wrong name.
        SafeFdHandle fd = OpenPath(PathOf(name), LibC.O_RDWR | LibC.O_CLOEXEC | LibC.O_NOFOLLOW, 0, "open");
        SharedRegion region;
        try
        {
            if (!allowOtherOwner)
            {
                CheckOwner(fd, PathOf(name));
            }

            region = AttachOwned(fd, name, initTimeout ?? DefaultInitTimeout, requireCreator ? new DeadCreatorCheck(fd, PathOf(name)) : null);
        }
        catch
        {
            fd.Dispose();
            throw;
        }

        if (requireCreator && !region.HasLiveCreator())
        {
            region.Dispose();
            throw new UintrIpcException(
                $"Refusing to open {PathOf(name)}: its creator is gone (it holds the region's creator lock no more: killed, or it disposed the region without removing its name), "
                + "so nobody will complete or serve it. Create it again: a new creator replaces the file a dead one left.");
        }

        return region;
    }

    /// <summary>Whether this named region's creator still holds its creator lock (one fcntl); true for a memfd region and in the creator.</summary>
    internal bool HasLiveCreator() => Name is null || IsCreator || WithFd(fd => RegionLocks.IsHeldElsewhere(fd, RegionLocks.CreatorByte));

    /// <summary>Takes a role lock of this named region (uintripc.h 1f), exclusive or <paramref name="shared"/>, for this object, until it is disposed; false if another holds it. True for a memfd region: no lock.</summary>
    internal bool TryLockRole(long offset, bool shared) => Name is null || WithFd(fd => RegionLocks.TryLock(fd, offset, shared));

    /// <summary>Releases this object's role lock at <paramref name="offset"/> (taken with <see cref="TryLockRole"/>); nothing for a memfd region.</summary>
    internal void UnlockRole(long offset)
    {
        if (Name is not null)
        {
            _ = WithFd(fd =>
            {
                RegionLocks.Unlock(fd, offset);
                return true;
            });
        }
    }

    /// <summary>Whether another open file description holds the role lock at <paramref name="offset"/> (one fcntl); false for a memfd region.</summary>
    internal bool IsRoleHeldElsewhere(long offset) => Name is not null && WithFd(fd => RegionLocks.IsHeldElsewhere(fd, offset));

    // The descriptor, referenced for the call: a dispose on another thread cannot close it (and let its number be reused) meanwhile.
    private bool WithFd(Func<SafeFdHandle, bool> use)
    {
        bool added = false;
        try
        {
            _fd.DangerousAddRef(ref added);
            return use(_fd);
        }
        finally
        {
            if (added)
            {
                _fd.DangerousRelease();
            }
        }
    }

    /// <summary>
    /// Attaches to a region from a descriptor received from its creator. The region keeps its
    /// own duplicate of the descriptor; the caller still owns <paramref name="fd"/>.
    /// </summary>
    /// <remarks>
    /// A memfd must carry the F_SEAL_SHRINK and F_SEAL_GROW seals (regions made by
    /// <see cref="CreateAnonymous(uint, ReadOnlySpan{PartSpec})"/> do), or it is refused: an unsealed
    /// one could be truncated under the mapping. Any other file is accepted with its size checked
    /// at attach; a process that can write it can still truncate it later, so prefer sealed
    /// memfds passed over the bootstrap socket to named regions when peers are not trusted.
    /// </remarks>
    /// <exception cref="UintrIpcException">The descriptor is not a regular file (a memfd or /dev/shm file), is an unsealed memfd, or cannot be duplicated or mapped.</exception>
    /// <exception cref="RegionFormatException">The region's header is invalid.</exception>
    public static SharedRegion Attach(SafeHandle fd, TimeSpan? initTimeout = null)
    {
        ArgumentNullException.ThrowIfNull(fd);
        ValidateTimeout(initTimeout);
        int dup;
        bool added = false;
        try
        {
            // AddRef: the caller's handle must not be closed (and its number reused) while we duplicate it.
            fd.DangerousAddRef(ref added);
            dup = LibC.fcntl((int)fd.DangerousGetHandle(), LibC.F_DUPFD_CLOEXEC, 0);
            if (dup < 0)
            {
                throw UintrIpcException.FromLastError("fcntl(F_DUPFD_CLOEXEC)", "Is the descriptor still open?");
            }
        }
        finally
        {
            if (added)
            {
                fd.DangerousRelease();
            }
        }

        var own = new SafeFdHandle(dup, ownsHandle: true);
        try
        {
            CheckRegularFile(own);
            CheckSeals(own);
            return AttachOwned(own, name: null, initTimeout ?? DefaultInitTimeout, deadCreator: null);
        }
        catch
        {
            own.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A region is a memfd or a file under /dev/shm. Anything else a peer sends in its place (an
    /// eventfd, a pipe, a socket) has size 0 for good: refused at once rather than waited on for
    /// the init timeout as if its creator had not sized it yet.
    /// </summary>
    private static void CheckRegularFile(SafeFdHandle fd)
    {
        stat st;
        if (LibC.fstat(fd.Fd, &st) != 0)
        {
            throw UintrIpcException.FromLastError("fstat");
        }

        if ((st.st_mode & LibC.S_IFMT) != LibC.S_IFREG)
        {
            throw new UintrIpcException(
                $"Refusing to attach descriptor {fd.Fd}: it is not a regular file (mode 0{Convert.ToString((int)(st.st_mode & LibC.S_IFMT), 8)}), so not a " +
                "memfd or /dev/shm region. Did the peer send another descriptor where the region belongs?");
        }
    }

    /// <summary>Refuses a file that another user owns (uintripc.h section 1a).</summary>
    private static void CheckOwner(SafeFdHandle fd, string path)
    {
        stat st;
        if (LibC.fstat(fd.Fd, &st) != 0)
        {
            throw UintrIpcException.FromLastError($"fstat {path}");
        }

        uint self = LibC.geteuid();
        if (st.st_uid != self)
        {
            throw new UintrIpcException(
                $"Refusing to open {path}: it belongs to uid {st.st_uid}, not to this process's user (uid {self}); its owner could " +
                "rewrite or truncate it under us. Pass allowOtherOwner: true to OpenNamed if that user is trusted.");
        }
    }

    /// <summary>
    /// A memfd must be sealed against shrinking and growing before we map it: otherwise whoever
    /// holds the descriptor can truncate it under the mapping, and our next access dies with
    /// SIGBUS. Other files (a named region's descriptor) cannot be sealed; their size is
    /// checked with fstat at attach, and the residual risk is documented (uintripc.h section 1).
    /// </summary>
    private static void CheckSeals(SafeFdHandle fd)
    {
        int required = LibC.F_SEAL_SHRINK | LibC.F_SEAL_GROW;
        int seals = LibC.fcntl(fd.Fd, LibC.F_GET_SEALS);
        if (seals >= 0 && (seals & required) == required)
        {
            return;
        }

        string? target = new FileInfo($"/proc/self/fd/{fd.Fd}").LinkTarget;
        if (target is not null && target.StartsWith("/memfd:", StringComparison.Ordinal))
        {
            string found = seals < 0 ? $"unavailable (errno {LibC.errno})" : $"0x{seals:x}";
            throw new UintrIpcException(
                $"Refusing to attach the memfd '{target}': its seals are {found}, but F_SEAL_SHRINK and F_SEAL_GROW are required, " +
                "so that nobody can truncate it under the mapping (SIGBUS). Create regions with SharedRegion.CreateAnonymous, which seals them.");
        }
    }

    /// <summary>Attaches to a region from a raw descriptor number (e.g. inherited by a child process).</summary>
    public static SharedRegion Attach(int fd, TimeSpan? initTimeout = null)
    {
        using var borrowed = new SafeFdHandle(fd, ownsHandle: false);
        return Attach(borrowed, initTimeout);
    }

    /// <summary>Removes /dev/shm/<paramref name="name"/>; returns false if it did not exist.</summary>
    public static bool Unlink(string name)
    {
        byte[] path = Encoding.UTF8.GetBytes(PathOf(name) + "\0");
        fixed (byte* p = path)
        {
            if (LibC.unlink(p) == 0)
            {
                return true;
            }
        }

        int errno = LibC.errno;
        return errno == LibC.ENOENT ? false : throw new UintrIpcException($"unlink {PathOf(name)}", errno);
    }

    /// <summary>
    /// Removes this region's name (creator's duty for named regions) while it leads to this
    /// region's file: one deleted meanwhile (rm, File.Delete) and created again by another creator
    /// is that creator's, and stays. Mappings stay valid. False when nothing was removed.
    /// </summary>
    public bool Unlink() => Name is { } name && WithFd(fd => NameLeadsTo(PathOf(name), fd)) && Unlink(name);

    /// <summary>Finds the first part of <paramref name="kind"/> with <paramref name="tag"/>.</summary>
    /// <exception cref="KeyNotFoundException">The region has no such part.</exception>
    public RegionPart FindPart(PartKind kind, uint tag = 0)
    {
        foreach (var part in _parts)
        {
            if (part.Kind == kind && part.Tag == tag)
            {
                return part;
            }
        }

        throw new KeyNotFoundException($"The region has no part of kind {kind} with tag {tag}; it has: {string.Join(", ", _parts.Select(p => $"{p.Kind}/{p.Tag}"))}.");
    }

    /// <summary>
    /// Finds the ring part with <paramref name="tag"/> of either mode (<paramref name="single"/>
    /// or <paramref name="multi"/>): the ring objects read the mode from the part.
    /// </summary>
    internal RegionPart FindRingPart(PartKind single, PartKind multi, uint tag)
    {
        RegionPart? found = null;
        foreach (var part in _parts)
        {
            if ((part.Kind == single || part.Kind == multi) && part.Tag == tag)
            {
                if (found is not null)
                {
                    throw new ArgumentException($"The region has two rings with tag {tag} ({found.Value.Kind} and {part.Kind}); attach with the part.", nameof(tag));
                }

                found = part;
            }
        }

        return found ?? FindPart(single, tag); // throws KeyNotFoundException, listing the parts
    }

    /// <summary>Address of a part's first byte (or of one ring of a duplex part, <see cref="Rings.DuplexPart.Ring"/>).</summary>
    public byte* PartPointer(RegionPart part)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if ((uint)part.Index >= (uint)_parts.Length || (_parts[part.Index] != part && !Rings.DuplexPart.IsRingOf(part, _parts[part.Index])))
        {
            throw new ArgumentException("The part does not belong to this region.", nameof(part));
        }

        return _base + part.Offset;
    }

    /// <summary>Marks the region closed (release), telling peers to detach.</summary>
    internal void MarkClosed() => Volatile.Write(ref *(uint*)(Base + RegionLayout.StateOffset), (uint)RegionState.Closed);

    /// <summary>
    /// Closes the descriptor and releases the region's lease on the mapping: the memory is
    /// unmapped now if nothing else holds a lease, otherwise when the last holder (a ring,
    /// an endpoint, a wait) releases its lease. Idempotent. Does not unlink a named region.
    /// </summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        if (Name is not null)
        {
            // Our creator and role locks (uintripc.h 1f) end with this object, not with the mapping,
            // which keeps the open file description until its last lease. After the unlink of a
            // channel's creator (ChannelCore.Close): a stale-name check never finds the name unlocked
            // while it still leads here.
            RegionLocks.UnlockAll(_fd);
        }

        _fd.Dispose();
        ReleaseLease();
    }

    /// <summary>
    /// Set by an owner through which nothing reaches the mapping after the last lease (no claim,
    /// batch or span outlives its lease: an RPC server session): that release unmaps the range
    /// instead of leaving a placeholder until this object is collected. A server's sessions
    /// otherwise kept one region's address space each (1 MiB by default) until a GC collected
    /// them, and for as long as the application kept a closed <c>RpcSession</c> (design-notes "fdleak").
    /// </summary>
    internal bool UnmapOnLastRelease { get; set; }

    /// <summary>Takes a lease on the mapping: it stays mapped until <see cref="ReleaseLease"/>.</summary>
    /// <exception cref="ObjectDisposedException">The last lease was released: the memory is gone.</exception>
    internal void AddLease()
    {
        if (!TryAddLease())
        {
            throw new ObjectDisposedException(nameof(SharedRegion), "The region and everything that used it were disposed; the memory is unmapped.");
        }
    }

    /// <summary>Takes a lease unless the mapping is already gone (false).</summary>
    internal bool TryAddLease()
    {
        int leases = Volatile.Read(ref _leases);
        while (leases > 0)
        {
            // Full fence: never resurrects a count that reached zero (the mapping is gone then).
            int seen = Interlocked.CompareExchange(ref _leases, leases + 1, leases);
            if (seen == leases)
            {
                return true;
            }

            leases = seen;
        }

        return false;
    }

    /// <summary>Releases a lease taken with <see cref="AddLease"/>; the last one unmaps the region.</summary>
    internal void ReleaseLease()
    {
        int left = Interlocked.Decrement(ref _leases);
        if (left == 0)
        {
            UnmapWhenUnused();
        }
        else if (left < 0)
        {
            throw new InvalidOperationException("A region lease was released twice.");
        }
    }

    /// <summary>The mapping's address with no disposed check: what a ring call records in <see cref="MappingUse"/>.</summary>
    internal nint MappingAddress => (nint)_base;

    /// <summary>
    /// The last lease is gone, so every ring on the region is disposed; a call that entered one
    /// before may still run on another thread. After a process-wide barrier such a call is either
    /// visible in <see cref="MappingUse"/> or sees its ring disposed (and touches nothing): retire
    /// the mapping now if none is, else retry from a timer until the last one has returned: after
    /// 1 ms, then doubling up to <see cref="MaxUnmapRetryMs"/> (a handler blocked inside a read
    /// keeps its mapping without waking the timer a thousand times a second). Retired, not
    /// unmapped: a private placeholder takes the range until this region is collected
    /// (<see cref="SafeMappingHandle.Retire"/>): a write through a claim racing the release finds memory, not a hole.
    /// </summary>
    private void UnmapWhenUnused()
    {
        Interlocked.MemoryBarrierProcessWide();
        if (!MappingUse.IsInUse((nint)_base))
        {
            LetGo();
            return;
        }

        Timer? retry = null;
        int delayMs = 1;
        retry = new Timer(_ =>
        {
            if (MappingUse.IsInUse((nint)_base))
            {
                delayMs = Math.Min(delayMs * 2, MaxUnmapRetryMs);
                retry!.Change(delayMs, Timeout.Infinite); // one-shot: callbacks never overlap
            }
            else if (s_pendingUnmaps.TryRemove(this, out Timer? _))
            {
                retry!.Dispose();
                LetGo();
            }
        });
        s_pendingUnmaps[this] = retry; // before it can fire
        retry.Change(delayMs, Timeout.Infinite);
    }

    /// <summary>The last lease's end, once no call uses the mapping: unmapped (<see cref="UnmapOnLastRelease"/>), else retired to a placeholder.</summary>
    private void LetGo()
    {
        if (UnmapOnLastRelease)
        {
            _mapping.Dispose(); // munmap now (SafeHandle: no AddRef is ever taken on the mapping)
        }
        else
        {
            _mapping.Retire();
        }
    }

    /// <summary>Whether the region's memory is still mapped (some lease is held, or a call keeps it), not yet a placeholder. Diagnostics and tests.</summary>
    internal bool IsMapped => _mapping.IsLive;

    private static SharedRegion Initialize(SafeFdHandle fd, uint regionKind, ReadOnlySpan<PartSpec> parts, (long Total, long[] Offsets) layout, string? name)
    {
        SafeMappingHandle mapping = SafeMappingHandle.MapShared(fd, layout.Total);
        try
        {
            byte* b = (byte*)mapping.DangerousGetHandle();
            // Plain stores: nobody may read them before the magic is published below.
            *(ushort*)(b + RegionLayout.VersionOffset) = RegionLayout.LayoutVersion;
            *(ushort*)(b + RegionLayout.HeaderSizeOffset) = RegionLayout.HeaderSize;
            *(uint*)(b + RegionLayout.RegionKindOffset) = regionKind;
            *(uint*)(b + RegionLayout.PartCountOffset) = (uint)parts.Length;
            *(ulong*)(b + RegionLayout.TotalSizeOffset) = (ulong)layout.Total;
            *(ulong*)(b + RegionLayout.EpochOffset) = NewEpoch();
            *(int*)(b + RegionLayout.CreatorPidOffset) = Environment.ProcessId;
            *(uint*)(b + RegionLayout.StateOffset) = (uint)RegionState.Ready;
            for (int i = 0; i < parts.Length; i++)
            {
                byte* entry = b + RegionLayout.PartsOffset + (i * RegionLayout.PartSize);
                *(uint*)(entry + RegionLayout.PartKindOffset) = (uint)parts[i].Kind;
                *(uint*)(entry + RegionLayout.PartTagOffset) = parts[i].Tag;
                *(ulong*)(entry + RegionLayout.PartOffsetOffset) = (ulong)layout.Offsets[i];
                *(ulong*)(entry + RegionLayout.PartLengthOffset) = (ulong)parts[i].Length;
                parts[i].Initialize?.Invoke((nint)(b + layout.Offsets[i]), parts[i].Length);
            }

            // Release: publishes every store above to an attacher that reads the magic with acquire.
            Volatile.Write(ref *(uint*)(b + RegionLayout.MagicOffset), RegionLayout.Magic);
            return new SharedRegion(fd, mapping, layout.Total, name, isCreator: true);
        }
        catch
        {
            mapping.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Maps the region once its creator published it, waiting for that up to <paramref name="initTimeout"/>;
    /// with <paramref name="deadCreator"/>, no longer than it takes to see that the creator is gone.
    /// </summary>
    private static SharedRegion AttachOwned(SafeFdHandle fd, string? name, TimeSpan initTimeout, DeadCreatorCheck? deadCreator)
    {
        long deadline = WaitDeadline.EndAfter(initTimeout); // saturating, like every deadline
        // A creator of a named region may not have sized the file yet.
        long size;
        while ((size = FileSize(fd)) < RegionLayout.HeaderSize)
        {
            if (Stopwatch.GetTimestamp() > deadline)
            {
                throw new RegionFormatException("file size", $">= {RegionLayout.HeaderSize} bytes", $"{size} bytes",
                    $"The creator did not initialise the region within {initTimeout.TotalMilliseconds} ms; is it a UintrIpc region?");
            }

            // A verdict reached after the size read above is final unless the file grew since.
            if (deadCreator?.Verdict() is { } gone && FileSize(fd) < RegionLayout.HeaderSize)
            {
                throw gone;
            }

            Thread.Sleep(1);
        }

        SafeMappingHandle mapping = SafeMappingHandle.MapShared(fd, size);
        try
        {
            byte* b = (byte*)mapping.DangerousGetHandle();
            uint magic;
            // Acquire: pairs with the creator's release store of the magic.
            while ((magic = Volatile.Read(ref *(uint*)(b + RegionLayout.MagicOffset))) != RegionLayout.Magic)
            {
                if (magic != 0 || Stopwatch.GetTimestamp() > deadline)
                {
                    throw new RegionFormatException("magic", $"0x{RegionLayout.Magic:x8}", $"0x{magic:x8}",
                        magic == 0 ? $"The creator did not publish the region within {initTimeout.TotalMilliseconds} ms." : "This is not a UintrIpc region.");
                }

                // The magic is read again after the verdict (acquire): a creator that published
                // before it let go of its lock is seen, and one that did not never will publish.
                if (deadCreator?.Verdict() is { } gone && Volatile.Read(ref *(uint*)(b + RegionLayout.MagicOffset)) == 0)
                {
                    throw gone;
                }

                Thread.Sleep(1);
            }

            ValidateHeader(b, size);
            return new SharedRegion(fd, mapping, size, name, isCreator: false);
        }
        catch
        {
            mapping.Dispose();
            throw;
        }
    }

    /// <summary>Checks the fixed header fields against the mapped size.</summary>
    internal static void ValidateHeader(byte* b, long mappedSize)
    {
        ushort version = *(ushort*)(b + RegionLayout.VersionOffset);
        if (version != RegionLayout.LayoutVersion)
        {
            throw new RegionFormatException("layout version", RegionLayout.LayoutVersion.ToString(), version.ToString(),
                "The peer was built with another UintrIpc layout; use the same package version on both sides.");
        }

        ushort headerSize = *(ushort*)(b + RegionLayout.HeaderSizeOffset);
        if (headerSize != RegionLayout.HeaderSize)
        {
            throw new RegionFormatException("header size", RegionLayout.HeaderSize.ToString(), headerSize.ToString());
        }

        ulong total = *(ulong*)(b + RegionLayout.TotalSizeOffset);
        if (total != (ulong)mappedSize)
        {
            throw new RegionFormatException("total size", $"{mappedSize} (the file size)", total.ToString());
        }

        uint partCount = *(uint*)(b + RegionLayout.PartCountOffset);
        if (partCount > RegionLayout.MaxParts)
        {
            throw new RegionFormatException("part count", $"<= {RegionLayout.MaxParts}", partCount.ToString());
        }

        if (*(ulong*)(b + RegionLayout.EpochOffset) == 0)
        {
            throw new RegionFormatException("epoch", "non-zero", "0");
        }
    }

    private static RegionPart[] ReadAndValidateParts(byte* b, long size)
    {
        uint count = *(uint*)(b + RegionLayout.PartCountOffset);
        var parts = new RegionPart[count];
        for (int i = 0; i < parts.Length; i++)
        {
            byte* entry = b + RegionLayout.PartsOffset + (i * RegionLayout.PartSize);
            uint kind = *(uint*)(entry + RegionLayout.PartKindOffset);
            uint tag = *(uint*)(entry + RegionLayout.PartTagOffset);
            ulong offset = *(ulong*)(entry + RegionLayout.PartOffsetOffset);
            ulong length = *(ulong*)(entry + RegionLayout.PartLengthOffset);
            string field = $"part {i} ";
            if (offset % RegionLayout.PartAlignment != 0)
            {
                throw new RegionFormatException(field + "offset", $"a multiple of {RegionLayout.PartAlignment}", offset.ToString());
            }

            ulong lowest = i == 0 ? RegionLayout.HeaderSize : (ulong)(parts[i - 1].Offset + parts[i - 1].Length);
            if (offset < lowest || offset > (ulong)size)
            {
                throw new RegionFormatException(field + "offset", $"between {lowest} and {size} (after the header and the previous part)", offset.ToString());
            }

            if (length > (ulong)size - offset)
            {
                throw new RegionFormatException(field + "length", $"<= {(ulong)size - offset} (inside the region)", length.ToString());
            }

            parts[i] = new RegionPart(i, (PartKind)kind, tag, (long)offset, (long)length);
        }

        return parts;
    }

    private static (long Total, long[] Offsets) Layout(ReadOnlySpan<PartSpec> parts)
    {
        if (parts.Length > RegionLayout.MaxParts)
        {
            throw new ArgumentOutOfRangeException(nameof(parts), parts.Length, $"A region holds at most {RegionLayout.MaxParts} parts.");
        }

        var offsets = new long[parts.Length];
        long next = RegionLayout.HeaderSize;
        for (int i = 0; i < parts.Length; i++)
        {
            if (parts[i].Length <= 0)
            {
                throw new ArgumentOutOfRangeException(nameof(parts), parts[i].Length, $"Part {i} ({parts[i].Kind}) must have a positive length.");
            }

            offsets[i] = next;
            next = checked(AlignUp(next + parts[i].Length, RegionLayout.PartAlignment));
        }

        return (AlignUp(next, Environment.SystemPageSize), offsets);
    }

    private static void ValidateTimeout(TimeSpan? initTimeout)
    {
        // Every wait is bounded: an infinite or negative timeout would turn a dead creator into a hang.
        if (initTimeout is { } t && (t < TimeSpan.Zero || t > TimeSpan.FromDays(1)))
        {
            throw new ArgumentOutOfRangeException(nameof(initTimeout), t, "The init timeout must be between zero and one day.");
        }
    }

    private static long AlignUp(long value, long alignment) => (value + alignment - 1) & ~(alignment - 1);

    private static ulong NewEpoch()
    {
        ulong epoch;
        do
        {
            epoch = BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(8));
        }
        while (epoch == 0);
        return epoch;
    }

    private static string PathOf(string name)
    {
        ThrowIfInvalidName(name, nameof(name));
        return SharedMemoryDirectory + "/" + name;
    }

    /// <summary>
    /// Refuses a name that is no file name under /dev/shm, saying which rule it breaks (the name
    /// shortened, since a too-long one would fill the message) and what a name may be.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> is null.</exception>
    /// <exception cref="ArgumentException">Empty, more than 255 bytes of UTF-8, '.', '..', or holding '/' or NUL.</exception>
    internal static void ThrowIfInvalidName(string name, string paramName)
    {
        ArgumentNullException.ThrowIfNull(name, paramName);
        int bytes = Encoding.UTF8.GetByteCount(name);
        string? broken = name.Length == 0 ? "it is empty"
            : bytes > MaxNameBytes ? $"it is {bytes} bytes long in UTF-8"
            : name.Contains('/') ? "it contains '/'"
            : name.Contains('\0') ? "it contains a NUL character"
            : name is "." or ".." ? "it names a directory"
            : null;
        if (broken is not null)
        {
            string shown = (name.Length > 40 ? name[..40] + "..." : name).Replace("\0", "\\0", StringComparison.Ordinal);
            throw new ArgumentException(
                $"'{shown}' is not a valid channel name: {broken}. A name is a file name under {SharedMemoryDirectory}: 1 to {MaxNameBytes} bytes of UTF-8, without '/' or NUL, not '.' or '..'.",
                paramName);
        }
    }

    private static SafeFdHandle CreateMemfd(string debugName)
    {
        byte[] n = Encoding.UTF8.GetBytes(debugName + "\0");
        fixed (byte* p = n)
        {
            int fd = LibC.memfd_create(p, LibC.MFD_CLOEXEC | LibC.MFD_ALLOW_SEALING);
            return fd >= 0 ? new SafeFdHandle(fd, ownsHandle: true)
                : throw UintrIpcException.FromLastError("memfd_create", "memfd needs Linux 3.17+; a seccomp filter may block it: use a named region instead.");
        }
    }

    private static SafeFdHandle OpenPath(string path, int flags, int mode, string verb)
        => TryOpenPath(path, flags, mode, out int errno) ?? throw OpenError(verb, path, errno, (flags & LibC.O_CREAT) != 0, staleReason: null);

    private static SafeFdHandle? TryOpenPath(string path, int flags, int mode, out int errno)
    {
        byte[] p = Encoding.UTF8.GetBytes(path + "\0");
        fixed (byte* pp = p)
        {
            int fd = LibC.open(pp, flags, (mode_t)mode);
            if (fd >= 0)
            {
                errno = 0;
                return new SafeFdHandle(fd, ownsHandle: true);
            }
        }

        errno = LibC.errno;
        return null;
    }

    private static UintrIpcException OpenError(string verb, string path, int errno, bool creating, string? staleReason)
    {
        string? hint = errno == LibC.EEXIST ? "Another region has this name. " + (staleReason ?? "Pick another name, or dispose the channel that has it.")
            : creating && errno == LibC.ENOENT ? $"{SharedMemoryDirectory} does not exist here (a container or sandbox without it). {NoSharedMemoryDirectoryWayOut}"
            : creating && (errno == LibC.EROFS || errno == LibC.EACCES || errno == LibC.EPERM) ? $"{SharedMemoryDirectory} is not writable by this process (read-only in this container or sandbox, or not this user's). {NoSharedMemoryDirectoryWayOut}"
            : errno == LibC.ENOENT ? "No region has this name: has the creator started?"
            : errno == LibC.EACCES ? "The region belongs to another user (regions are created 0600)."
            : errno == LibC.ELOOP ? $"It is a symbolic link: a region is opened by the name of its own file in {SharedMemoryDirectory}, and links are not followed "
                + "(as shm_open does not follow them). Open the region by its own name, or delete the link."
            : null;
        return new UintrIpcException($"{verb} {path}", errno, hint);
    }

    private const string NoSharedMemoryDirectoryWayOut = "Mount a writable tmpfs there (a container's /dev/shm: docker run --shm-size, or a tmpfs volume), "
        + "or leave IpcChannelOptions.Name null: such a channel lives in a memfd, needs no /dev/shm and is handed over with BootstrapConnection (SendChannel, ReceiveChannel).";

    // A tmpfs hands out pages at first touch: without this, a /dev/shm smaller than the region accepts
    // the ftruncate and the process dies of SIGBUS later, at the first write to a page it has no room for.
    // posix_fallocate, not fallocate: on a file system without fallocate (EOPNOTSUPP) it writes each
    // block instead, so such a /dev/shm fails here too rather than with SIGBUS (review23). The pages
    // are committed now: a named region costs its whole size in /dev/shm (and in the memory cgroup)
    // from its creation, as a memfd region costs its pages as they are first touched.
    private static void Reserve(SafeFdHandle fd, long size, string path)
    {
        int errno = Sys.PosixFallocate(fd.Fd, 0, size);
        if (errno == 0)
        {
            return;
        }

        throw new UintrIpcException($"fallocate {path} to {size} bytes", errno, errno != LibC.ENOSPC ? null
            : $"{SharedMemoryDirectory} has less room than this region's {size} bytes (df -h {SharedMemoryDirectory}); using it would end the process with SIGBUS at the first page that does not fit. "
            + "Make it larger (in a container: docker run --shm-size, or a bigger tmpfs), make the channel smaller (Capacity, BufferSize), "
            + "or leave IpcChannelOptions.Name null: a memfd channel is not bounded by the size of /dev/shm.");
    }

    private static void SetSize(SafeFdHandle fd, long size)
    {
        if (LibC.ftruncate(fd.Fd, size) != 0)
        {
            throw UintrIpcException.FromLastError($"ftruncate to {size} bytes", "Is /dev/shm full (df -h /dev/shm)?");
        }
    }

    /// <summary>The file's size now (fstat).</summary>
    internal static long FileSize(SafeFdHandle fd)
    {
        stat st;
        if (LibC.fstat(fd.Fd, &st) != 0)
        {
            throw UintrIpcException.FromLastError("fstat");
        }

        return st.st_size;
    }
}
