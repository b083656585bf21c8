namespace ModelService.Api.Tests;

/// <summary>A theory about something only Linux has (thread scheduling policies read from /proc): skipped, saying so,
/// on other systems.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class LinuxTheoryAttribute : TheoryAttribute
{
    public LinuxTheoryAttribute()
    {
        if (!OperatingSystem.IsLinux())
        {
            Skip = "Linux only";
        }
    }
}
