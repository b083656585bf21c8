using System.Runtime.InteropServices;

namespace ModelService.Api.Training;

/// <summary>Sets the calling thread's nice value on Linux (.NET's Thread.Priority does nothing there). Raising it
/// needs no privilege; a failure leaves the thread at normal priority.</summary>
internal static partial class ThreadNiceness
{
    private const int PrioProcess = 0;

    public static void ApplyToCurrentThread(int niceness)
    {
        if (niceness == 0 || !OperatingSystem.IsLinux())
        {
            return;
        }
        // With PRIO_PROCESS and a thread id, Linux changes only that thread; threads it starts inherit the value.
        _ = SetPriority(PrioProcess, GetThreadId(), niceness);
    }

    [LibraryImport("libc", EntryPoint = "setpriority")]
    private static partial int SetPriority(int which, int who, int priority);

    [LibraryImport("libc", EntryPoint = "gettid")]
    private static partial int GetThreadId();
}
