using ModelService.Model.Data;
using ModelService.Model.Preprocessing;
using static TorchSharp.torch;

namespace ModelService.Model.Training;

/// <summary>Which table rows train and which validate; rows without a target are in neither.</summary>
internal sealed record DataSplit(int[] TrainRows, int[] ValidationRows, int DroppedRows)
{
    /// <summary>Shuffles the usable rows with <paramref name="generator"/> (one draw) and holds out either
    /// <see cref="TrainingOptions.ValidationFraction"/> of them or, with a <paramref name="fold"/>, that fold's share.</summary>
    public static DataSplit Create(DataTable data, TrainingRequestSpec spec, Generator generator, CrossValidationFold? fold = null)
    {
        var target = data[spec.Target];
        var usable = Enumerable.Range(0, data.RowCount).Where(r => !target.IsMissing(r)).ToArray();
        var fraction = spec.Options.ValidationFraction;
        var minimum = fold?.Count ?? (fraction > 0 ? 2 : 1);
        if (usable.Length < minimum)
        {
            throw new ArgumentException(
                $"Training needs at least {minimum} rows with a value for '{spec.Target}'; the data has {usable.Length}.", nameof(spec));
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
            data.RowCount - usable.Length);
    }
}

/// <summary>The split encoded for the network: inputs row-major, targets standardised (and raw for metrics).</summary>
internal sealed record EncodedSplit(
    int InputWidth,
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
        return new EncodedSplit(preprocessor.InputWidth,
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
}
