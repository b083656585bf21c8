using System.Numerics.Tensors;
using ModelService.Model.Data;
using ModelService.Model.Preprocessing;
using static TorchSharp.torch;

namespace ModelService.Model.Training;

/// <summary>Which table rows (or tensor samples) train and which validate; those without a target are in neither.</summary>
internal sealed record DataSplit(int[] TrainRows, int[] ValidationRows, int DroppedRows)
{
    /// <summary>Shuffles the usable rows with <paramref name="generator"/> (one draw) and holds out either
    /// <see cref="TrainingOptions.ValidationFraction"/> of them or, with a <paramref name="fold"/>, that fold's share.</summary>
    public static DataSplit Create(DataTable data, TrainingRequestSpec spec, Generator generator, CrossValidationFold? fold = null)
    {
        var target = data[spec.Target];
        var usable = Enumerable.Range(0, data.RowCount).Where(r => !target.IsMissing(r)).ToArray();
        return Create(usable, data.RowCount, $"rows with a value for '{spec.Target}'", spec, generator, fold);
    }

    /// <summary>As for a table, over the samples whose target has no NaN (a per-position target needs every position).</summary>
    public static DataSplit Create(TensorData data, TrainingRequestSpec spec, Generator generator)
    {
        var per = data.TargetsPerSample;
        var usable = Enumerable.Range(0, data.Count).Where(s => !TensorPrimitives.IsNaNAny<double>(data.Y.AsSpan(s * per, per))).ToArray();
        return Create(usable, data.Count, "samples with a target", spec, generator, fold: null);
    }

    private static DataSplit Create(
        int[] usable, int total, string what, TrainingRequestSpec spec, Generator generator, CrossValidationFold? fold)
    {
        var fraction = spec.Options.ValidationFraction;
        var minimum = fold?.Count ?? (fraction > 0 ? 2 : 1);
        if (usable.Length < minimum)
        {
            throw new ArgumentException($"Training needs at least {minimum} {what}; the data has {usable.Length}.", nameof(spec));
        }
        var (validationStart, validationCount) = fold is { } f
            ? f.ValidationRange(usable.Length)
            : (0, fraction > 0 ? Math.Clamp((int)Math.Round(usable.Length * fraction), 1, usable.Length - 1) : 0);
        if (spec.Network.BatchNorm && usable.Length - validationCount < 2)
        {
            throw new ArgumentException("Batch normalisation needs at least 2 training rows.", nameof(spec));
        }

        using var order = randperm(usable.Length, generator: generator);
        var shuffled = order.data<long>().Select(i => usable[i]).ToArray();
        var validationEnd = validationStart + validationCount;
        return new DataSplit(
            [.. shuffled[..validationStart], .. shuffled[validationEnd..]],
            shuffled[validationStart..validationEnd],
            total - usable.Length);
    }
}

/// <summary>The split encoded for the network: inputs row-major (a tensor sample's H·W·C values are one row), targets
/// standardised (and raw for metrics), <see cref="TargetWidth"/> per row.</summary>
internal sealed record EncodedSplit(
    int InputWidth,
    int TargetWidth,
    int TrainRows,
    float[] TrainInputs,
    float[] TrainTargets,
    double[] TrainRawTargets,
    int ValidationRows,
    float[] ValidationInputs,
    float[] ValidationTargets,
    double[] ValidationRawTargets)
{
    public static EncodedSplit Create(DataTable data, DataSplit split, Preprocessor preprocessor)
    {
        var (trainInputs, trainTargets, trainRaw) = Encode(data, split.TrainRows, preprocessor);
        var (validationInputs, validationTargets, validationRaw) = Encode(data, split.ValidationRows, preprocessor);
        return new EncodedSplit(preprocessor.InputWidth, 1,
            split.TrainRows.Length, trainInputs, trainTargets, trainRaw,
            split.ValidationRows.Length, validationInputs, validationTargets, validationRaw);
    }

    /// <summary>Tensor samples: each position's channels standardised by <paramref name="preprocessor"/> (one feature per
    /// channel), a sample's positions in H, W order.</summary>
    public static EncodedSplit Create(TensorData data, DataSplit split, Preprocessor preprocessor)
    {
        var (trainInputs, trainTargets, trainRaw) = Encode(data, split.TrainRows, preprocessor);
        var (validationInputs, validationTargets, validationRaw) = Encode(data, split.ValidationRows, preprocessor);
        return new EncodedSplit(data.SampleSize, data.TargetsPerSample,
            split.TrainRows.Length, trainInputs, trainTargets, trainRaw,
            split.ValidationRows.Length, validationInputs, validationTargets, validationRaw);
    }

    private static (float[] Inputs, float[] Targets, double[] Raw) Encode(DataTable data, int[] rows, Preprocessor preprocessor)
    {
        var inputs = new float[rows.Length * preprocessor.InputWidth];
        preprocessor.EncodeTable(data, rows, inputs);
        var values = data[preprocessor.Target.Name].Numbers!;
        var raw = rows.Select(r => values[r]).ToArray();
        var targets = raw.Select(y => (float)preprocessor.ScaleTarget(y)).ToArray();
        return (inputs, targets, raw);
    }

    private static (float[] Inputs, float[] Targets, double[] Raw) Encode(TensorData data, int[] samples, Preprocessor preprocessor)
    {
        var size = data.SampleSize;
        var per = data.TargetsPerSample;
        var inputs = new float[samples.Length * size];
        var raw = new double[samples.Length * per];
        for (var i = 0; i < samples.Length; i++)
        {
            preprocessor.EncodeNumbers<float>(data.X.AsSpan(samples[i] * size, size), data.Positions, inputs.AsSpan(i * size, size));
            data.Y.AsSpan(samples[i] * per, per).CopyTo(raw.AsSpan(i * per, per));
        }
        var targets = raw.Select(y => (float)preprocessor.ScaleTarget(y)).ToArray();
        return (inputs, targets, raw);
    }
}
