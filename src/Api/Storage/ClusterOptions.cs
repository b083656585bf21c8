using System.ComponentModel.DataAnnotations;

namespace ModelService.Api.Storage;

/// <summary>This process as one member of a cluster (section "Cluster").</summary>
internal sealed class ClusterOptions
{
    public const string Section = "Cluster";

    /// <summary>Recorded as a job's worker; defaults to the host name (the pod name on Kubernetes).</summary>
    [Required(AllowEmptyStrings = false)]
    [MaxLength(200)]
    public string InstanceName { get; set; } = Environment.MachineName;

    /// <summary>How often the active-model pointer is read again, in case a change notification was missed.</summary>
    [Range(50, 60_000)]
    public int ActiveModelPollMilliseconds { get; set; } = 1000;
}
