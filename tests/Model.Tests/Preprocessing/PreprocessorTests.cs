using ModelService.Model.Data;
using ModelService.Model.Preprocessing;

namespace ModelService.Model.Tests.Preprocessing;

public sealed class PreprocessorTests
{
    private static readonly int[] AllFour = [0, 1, 2, 3];

    [Fact]
    public void Missing_numbers_become_the_training_median_and_numbers_are_standardised()
    {
        var table = Table(numbers: [1, double.NaN, 3, 10], labels: ["a", "a", "b", "a"], y: [1, 2, 3, 4]);

        var p = Preprocessor.Fit(table, AllFour, "y", ["x"]);

        var x = p.Features[0];
        Assert.Equal(3, x.ImputeValue);
        var imputed = new[] { 1.0, 3, 3, 10 };
        var mean = imputed.Average();
        var std = Math.Sqrt(imputed.Sum(v => (v - mean) * (v - mean)) / 4);
        Assert.Equal(mean, x.Mean!.Value, 12);
        Assert.Equal(std, x.Std!.Value, 12);
        Assert.Equal((float)((3 - mean) / std), Encode(p, FeatureValue.Missing)[0], 6);
        Assert.Equal((float)((10 - mean) / std), Encode(p, FeatureValue.FromNumber(10))[0], 6);
    }

    [Fact]
    public void A_constant_column_is_scaled_by_one()
    {
        var table = Table(numbers: [0.1, 0.1, 0.1, 0.1], labels: ["a", "a", "a", "a"], y: [1, 2, 3, 4]);

        var p = Preprocessor.Fit(table, AllFour, "y", ["x"]);

        Assert.Equal(1, p.Features[0].Std);
        Assert.Equal(0.9f, Encode(p, FeatureValue.FromNumber(1.0))[0], 5);
    }

    [Fact]
    public void Categories_are_one_hot_in_sorted_order_with_the_mode_for_missing_and_zeros_for_unseen()
    {
        var table = Table(numbers: [1, 2, 3, 4], labels: ["red", "blue", null, "red"], y: [1, 2, 3, 4]);

        var p = Preprocessor.Fit(table, AllFour, "y", ["x", "colour"]);

        var colour = p.Features[1];
        Assert.Equal(["blue", "red"], colour.Categories!);
        Assert.Equal("red", colour.ImputeCategory);
        Assert.Equal(3, p.InputWidth);
        Assert.Equal([0f, 1f], Encode(p, FeatureValue.FromNumber(1), FeatureValue.FromLabel("red"))[1..]);
        Assert.Equal([1f, 0f], Encode(p, FeatureValue.FromNumber(1), FeatureValue.FromLabel("blue"))[1..]);
        Assert.Equal([0f, 1f], Encode(p, FeatureValue.FromNumber(1), FeatureValue.Missing)[1..]);
        Assert.Equal([0f, 0f], Encode(p, FeatureValue.FromNumber(1), FeatureValue.FromLabel("green"))[1..]);
    }

    [Fact]
    public void Statistics_come_from_training_rows_only()
    {
        var table = Table(numbers: [1, 2, 3, 1000], labels: ["a", "b", "a", "validation-only"], y: [1, 2, 3, 5000]);
        int[] train = [0, 1, 2];

        var p = Preprocessor.Fit(table, train, "y", ["x", "colour"]);

        Assert.Equal(2, p.Features[0].Mean);
        Assert.Equal(2, p.Features[0].ImputeValue);
        Assert.Equal(["a", "b"], p.Features[1].Categories!);
        Assert.Equal(2, p.Target.Mean);
    }

    [Fact]
    public void Target_scaling_round_trips()
    {
        var table = Table(numbers: [1, 2, 3, 4], labels: ["a", "a", "a", "a"], y: [100, 200, 300, 400]);

        var p = Preprocessor.Fit(table, AllFour, "y", ["x"]);

        Assert.Equal(250, p.Target.Mean);
        Assert.Equal(0, p.ScaleTarget(250), 12);
        Assert.Equal(1, p.ScaleTarget(250 + p.Target.Std), 12);
        foreach (var y in new[] { -5.0, 0, 123.456, 1e6 })
        {
            Assert.Equal(y, p.UnscaleTarget(p.ScaleTarget(y)), 6);
        }
    }

    [Fact]
    public void A_label_for_a_numeric_feature_is_refused_naming_the_feature()
    {
        var p = Preprocessor.Fit(Table([1, 2, 3, 4], ["a", "a", "b", "b"], [1, 2, 3, 4]), AllFour, "y", ["x"]);

        var error = Assert.Throws<ArgumentException>(() => Encode(p, FeatureValue.FromLabel("0.5")));

        Assert.Contains("'x'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Fitting_refuses_a_categorical_target_and_unknown_columns()
    {
        var table = Table([1, 2, 3, 4], ["a", "a", "b", "b"], [1, 2, 3, 4]);

        Assert.Throws<ArgumentException>(() => Preprocessor.Fit(table, AllFour, "colour", ["x"]));
        Assert.Throws<ArgumentException>(() => Preprocessor.Fit(table, AllFour, "y", ["nope"]));
        Assert.Throws<ArgumentException>(() => Preprocessor.Fit(table, AllFour, "nope", ["x"]));
    }

    [Fact]
    public void California_sample_encodes_every_row_with_finite_values()
    {
        var table = TestData.California();
        var features = table.Columns.Select(c => c.Name).Where(n => n != "median_house_value").ToArray();
        var rows = Enumerable.Range(0, table.RowCount).ToArray();

        var p = Preprocessor.Fit(table, rows, "median_house_value", features);
        var encoded = new float[rows.Length * p.InputWidth];
        p.EncodeTable(table, rows, encoded);

        var ocean = p.Features.Single(f => f.Name == "ocean_proximity");
        Assert.Equal(["<1H OCEAN", "INLAND", "NEAR BAY", "NEAR OCEAN"], ocean.Categories!);
        Assert.Equal("<1H OCEAN", ocean.ImputeCategory);
        Assert.Equal(8 + 4, p.InputWidth);
        Assert.All(encoded, v => Assert.True(float.IsFinite(v)));
        Assert.True(table["total_bedrooms"].Numbers!.Any(double.IsNaN), "the sample keeps rows with missing values");
        for (var c = 0; c < 8; c++)
        {
            var column = rows.Select(r => (double)encoded[(r * p.InputWidth) + c]).ToArray();
            Assert.Equal(0, column.Average(), 4);
        }
    }

    private static float[] Encode(Preprocessor p, params FeatureValue[] row)
    {
        var output = new float[p.InputWidth];
        p.Encode(row, 1, output);
        return output;
    }

    private static DataTable Table(double[] numbers, string?[] labels, double[] y) => new([
        DataColumn.Numeric("x", numbers),
        DataColumn.Categorical("colour", labels),
        DataColumn.Numeric("y", y),
    ]);
}
