using System.Runtime.InteropServices;

namespace ModelService.Api.Training;

/// <summary>Lowers the calling (training) thread's CPU priority on Linux, where .NET's Thread.Priority does nothing:
/// the SCHED_IDLE policy, under which the thread runs only on CPU time no normal thread wants and yields at once to a
/// waking request thread, or else a nice value. Lowering needs no privilege; a failure leaves the thread as it was.
/// Threads the training thread starts (LibTorch's) inherit both.</summary>
internal static partial class TrainingThreadPriority
{
    private const int PrioProcess = 0;
    private const int SchedIdle = 5;

    /// <summary>Applies <paramref name="idle"/> (SCHED_IDLE) and <paramref name="niceness"/> to the calling thread;
    /// returns a description for the log.</summary>
    public static string ApplyToCurrentThread(bool idle, int niceness)
    {
        if (!OperatingSystem.IsLinux())
        {
            return "normal (thread priorities are only lowered on Linux)";
        }
        // With PRIO_PROCESS and a thread id, and with pid 0 for sched_setscheduler, Linux changes only this thread.
        var niced = niceness != 0 && SetPriority(PrioProcess, GetThreadId(), niceness) == 0;
        var parameters = new SchedParam();
        var scheduled = idle && SetScheduler(0, SchedIdle, ref parameters) == 0;
        return (idle, scheduled, niced) switch
        {
            (true, true, _) => "SCHED_IDLE",
            (true, false, true) => $"nice {niceness} (SCHED_IDLE was refused)",
            (true, false, false) => "normal (SCHED_IDLE was refused)",
            (false, _, true) => $"nice {niceness}",
            (false, _, false) => niceness == 0 ? "normal" : "normal (the nice value was refused)",
        };
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct SchedParam
    {
        public int Priority;
    }

    [LibraryImport("libc", EntryPoint = "setpriority")]
    private static partial int SetPriority(int which, int who, int priority);

    [LibraryImport("libc", EntryPoint = "sched_setscheduler")]
    private static partial int SetScheduler(int pid, int policy, ref SchedParam parameters);

    [LibraryImport("libc", EntryPoint = "gettid")]
    private static partial int GetThreadId();
}
