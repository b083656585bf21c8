using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace ModelService.Api.Storage;

/// <summary>Opaque ids: a kind prefix and 12 random URL-safe characters. The strict pattern keeps any id that reaches
/// the file system from naming anything outside its folder.</summary>
internal static partial class Ids
{
    public const string DatasetPrefix = "ds_";
    public const string ModelPrefix = "mdl_";
    public const string JobPrefix = "job_";
    public const string SweepPrefix = "swp_";
    private const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    private const int RandomLength = 12;

    /// <summary>A well-formed dataset id, for validation attributes.</summary>
    public const string DatasetIdPattern = @"^ds_[A-Za-z0-9_-]{12}\z";

    public static string NewDatasetId() => New(DatasetPrefix);

    public static string NewModelId() => New(ModelPrefix);

    public static string NewJobId() => New(JobPrefix);

    public static string NewSweepId() => New(SweepPrefix);

    public static bool IsDatasetId(string? id) => IsValid(id, DatasetPrefix);

    public static bool IsModelId(string? id) => IsValid(id, ModelPrefix);

    public static bool IsJobId(string? id) => IsValid(id, JobPrefix);

    public static bool IsSweepId(string? id) => IsValid(id, SweepPrefix);

    private static string New(string prefix) => prefix + RandomNumberGenerator.GetString(Alphabet, RandomLength);

    private static bool IsValid(string? id, string prefix) =>
        id is not null && id.StartsWith(prefix, StringComparison.Ordinal) && Suffix().IsMatch(id.AsSpan(prefix.Length));

    [GeneratedRegex(@"^[A-Za-z0-9_-]{12}\z")]
    private static partial Regex Suffix();
}
