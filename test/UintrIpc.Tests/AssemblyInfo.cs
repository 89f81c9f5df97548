using System.Runtime.Versioning;

// UintrIpc is Linux-only (memfd, /dev/shm, futex); so are its tests.
[assembly: SupportedOSPlatform("linux")]
