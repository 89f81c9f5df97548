namespace SyscallForward.Executor;

/// <summary>How <see cref="ConfinedDirectory"/> keeps opens beneath its directory.</summary>
public enum ConfinementMode
{
    /// <summary>openat2 with RESOLVE_BENEATH where the kernel has it (5.6+), otherwise <see cref="Walk"/>.</summary>
    Auto,

    /// <summary>openat2 with RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS; fails at start where the kernel lacks it.</summary>
    OpenAt2,

    /// <summary>
    /// The fallback: one component at a time with O_NOFOLLOW, holding a descriptor for every directory
    /// on the way, and resolving symbolic links in user space so that they never lead above the start.
    /// </summary>
    Walk,
}
