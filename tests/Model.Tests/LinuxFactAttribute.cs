namespace ModelService.Model.Tests;

/// <summary>A fact about something only Linux has (the ELF glue library and the host's libstdc++): skipped, saying so,
/// on other systems.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class LinuxFactAttribute : FactAttribute
{
    public LinuxFactAttribute()
    {
        if (!OperatingSystem.IsLinux())
        {
            Skip = "Linux only";
        }
    }
}
