using System.ComponentModel.DataAnnotations;

namespace ModelService.Api.Limits;

/// <summary>Request and dataset size limits (section "Limits").</summary>
internal sealed class LimitsOptions
{
    public const string Section = "Limits";

    /// <summary>Largest accepted request body; larger bodies are answered with 413.</summary>
    [Range(1024, long.MaxValue)]
    public long MaxRequestBodyBytes { get; set; } = 100L * 1024 * 1024;

    /// <summary>A body that grows past this many bytes needs one of <see cref="MaxConcurrentLargeBodies"/> slots, held
    /// until the request is done with it.</summary>
    [Range(16 * 1024, int.MaxValue)]
    public int LargeBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>Large bodies received or held at once; together they cost at most this many times
    /// <see cref="MaxRequestBodyBytes"/>.</summary>
    [Range(1, 1024)]
    public int MaxConcurrentLargeBodies { get; set; } = 4;

    /// <summary>Seconds a large body waits for a slot before the request is answered 503 with Retry-After.</summary>
    [Range(1, 3600)]
    public int LargeBodyWaitSeconds { get; set; } = 30;

    /// <summary>Once it holds a slot, a large body must arrive at least this fast (after
    /// <see cref="LargeBodyGraceSeconds"/>), or the request is answered 408 and the slot freed.</summary>
    [Range(1, int.MaxValue)]
    public int MinLargeBodyBytesPerSecond { get; set; } = 64 * 1024;

    [Range(0, 3600)]
    public int LargeBodyGraceSeconds { get; set; } = 5;

    /// <summary>Most data rows in one uploaded dataset.</summary>
    [Range(1, int.MaxValue)]
    public int MaxDatasetRows { get; set; } = 2_000_000;

    /// <summary>Most columns in one uploaded dataset.</summary>
    [Range(1, 100_000)]
    public int MaxDatasetColumns { get; set; } = 1000;

    /// <summary>Most values in a tensor dataset's x (its y is never larger): [N, H, W, C] with N x H x W x C over this is a
    /// 413, found from the .npy header or while reading the JSON form, before the arrays are allocated. x costs 4 bytes a
    /// value in memory and in storage.</summary>
    [Range(1, int.MaxValue)]
    public int MaxTensorElements { get; set; } = 10_000_000;

    /// <summary>Largest manifest.json in an imported model archive.</summary>
    [Range(1024, int.MaxValue)]
    public int MaxManifestBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>Most bytes of PAX and GNU long-name metadata in an imported model archive (a model archive needs a few
    /// hundred).</summary>
    [Range(512, 16 * 1024 * 1024)]
    public int MaxArchiveHeaderBytes { get; set; } = 64 * 1024;

    /// <summary>Most tags on an imported model, and the longest key or value.</summary>
    [Range(1, 10_000)]
    public int MaxModelTags { get; set; } = 64;

    [Range(1, 1_000_000)]
    public int MaxTagLength { get; set; } = 1024;
}
