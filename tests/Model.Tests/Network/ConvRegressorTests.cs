using ModelService.Model.Network;
using ModelService.Model.Serialization;
using static TorchSharp.torch;

namespace ModelService.Model.Tests.Network;

public sealed class ConvRegressorTests
{
    [Fact]
    public void Seed_network_on_two_features_has_193_parameters()
    {
        var spec = new NetworkSpec(1, 1, 2, [16, 8]);

        Assert.Equal(193, spec.ParameterCount);
        Assert.Equal(
            ["conv1x1 2->16 (48, relu)", "conv1x1 16->8 (136, relu)", "flatten 8->8 (0, )", "dense 8->1 (9, )"],
            spec.Layers.Select(l => $"{l.Type} {l.InChannels}->{l.OutChannels} ({l.Parameters}, {(l.Activation is { } a ? WireNames.Of(a) : "")})"));
        using var generator = new Generator(1);
        using var module = new ConvRegressor(spec, generator);
        Assert.Equal(193, module.parameters().Sum(p => p.numel()));
        Assert.Equal(193, module.TrainableCount);
    }

    [Fact]
    public void Batch_norm_adds_gamma_and_beta_per_channel_and_parameters_are_conv_shaped()
    {
        var spec = new NetworkSpec(1, 1, 3, [4], BatchNorm: true);

        Assert.Equal((3 * 4) + 4 + (2 * 4) + 4 + 1, spec.ParameterCount);
        Assert.Contains(spec.Layers, l => l is { Type: "batchnorm", Parameters: 8 });
        using var generator = new Generator(1);
        using var module = new ConvRegressor(spec, generator);
        var weight = module.ExportWeights().Single(w => w.Name == "hidden.0.conv.weight");
        Assert.Equal([4, 3, 1, 1], weight.Shape);
    }

    [Fact]
    public void One_by_one_input_computes_exactly_what_an_MLP_with_the_same_weights_computes()
    {
        var spec = new NetworkSpec(1, 1, 3, [16, 8]);
        using var generator = new Generator(5);
        using var module = new ConvRegressor(spec, generator);
        module.eval();
        var w = module.ExportWeights().ToDictionary(t => t.Name);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var x = randn([32, 3], generator: generator);

        var h = x.mm(Matrix(w["hidden.0.conv.weight"], 16, 3).t()).add(tensor(w["hidden.0.conv.bias"].Values)).relu();
        h = h.mm(Matrix(w["hidden.1.conv.weight"], 8, 16).t()).add(tensor(w["hidden.1.conv.bias"].Values)).relu();
        var mlp = h.mm(Matrix(w["output.weight"], 1, 8).t()).add(tensor(w["output.bias"].Values));
        var network = module.forward(x.reshape(32, 1, 1, 3));

        Assert.Equal([32L, 1L], network.shape);
        Assert.True(network.allclose(mlp, rtol: 1e-6, atol: 1e-6), "the 1x1-conv network and the MLP disagree");
    }

    [Fact]
    public void Larger_inputs_go_through_one_shared_per_position_transform_like_a_1x1_conv2d()
    {
        var spec = new NetworkSpec(2, 3, 4, [5, 6], Activation.Tanh);
        using var generator = new Generator(9);
        using var module = new ConvRegressor(spec, generator);
        module.eval();
        var w = module.ExportWeights().ToDictionary(t => t.Name);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var x = randn([7, 2, 3, 4], generator: generator);

        // Reference: NCHW conv2d with the stored [out, in, 1, 1] kernels, flattened back in H, W, C order.
        var h = x.permute(0, 3, 1, 2);
        h = nn.functional.conv2d(h, Kernel(w["hidden.0.conv.weight"]), tensor(w["hidden.0.conv.bias"].Values)).tanh();
        h = nn.functional.conv2d(h, Kernel(w["hidden.1.conv.weight"]), tensor(w["hidden.1.conv.bias"].Values)).tanh();
        var flat = h.permute(0, 2, 3, 1).reshape(7, 2 * 3 * 6);
        var reference = flat.mm(Matrix(w["output.weight"], 1, 36).t()).add(tensor(w["output.bias"].Values));

        Assert.True(module.forward(x).allclose(reference, rtol: 1e-5, atol: 1e-6), "the network differs from conv2d");
    }

    [Fact]
    public void Every_position_is_transformed_by_the_same_weights()
    {
        var spec = new NetworkSpec(1, 2, 3, [4]);
        using var generator = new Generator(3);
        using var module = new ConvRegressor(spec, generator);
        module.eval();
        var w = module.ExportWeights().ToDictionary(t => t.Name);
        // Make the output read position 0's and position 1's channels with opposite signs: equal positions must cancel.
        var dense = w["output.weight"].Values;
        var mirrored = w.Values.Select(t => t.Name == "output.weight"
            ? t with { Values = [.. dense[..4], .. dense[..4].Select(v => -v)] }
            : t.Name == "output.bias" ? t with { Values = [0f] } : t).ToList();
        module.LoadWeights(mirrored);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var position = randn([5, 1, 1, 3], generator: generator);

        var output = module.forward(cat([position, position], dim: 2));

        Assert.True(output.abs().max().item<float>() < 1e-6f);
    }

    [Fact]
    public void On_8x8x3_inputs_a_per_position_head_keeps_the_parameters_of_one_position_and_only_a_dense_head_grows_with_h_x_w()
    {
        var perPosition = new NetworkSpec(8, 8, 3, [16, 8], Head: Head.PerPosition);
        var flattenDense = new NetworkSpec(8, 8, 3, [16, 8]);

        // conv 3->16: 64, conv 16->8: 136, then a conv 8->1 (9) or a dense layer over 8x8x8 flattened values (513).
        Assert.Equal(209, perPosition.ParameterCount);
        Assert.Equal(0, perPosition.PositionDependentParameterCount);
        Assert.Equal(
            ["conv1x1 3->16 (64, relu, 0)", "conv1x1 16->8 (136, relu, 0)", "conv1x1 8->1 (9, , 0)"],
            perPosition.Layers.Select(Describe));
        Assert.Equal(713, flattenDense.ParameterCount);
        Assert.Equal(512, flattenDense.PositionDependentParameterCount);
        Assert.Equal(["flatten 8->512 (0, , 0)", "dense 512->1 (513, , 512)"], flattenDense.Layers.Skip(2).Select(Describe));
        Assert.Equal(209, (perPosition with { Height = 64, Width = 64 }).ParameterCount);
        // README's comparison: a dense MLP on the flattened input (one position of 192 or 768 channels), and both heads on 16x16.
        Assert.Equal(3233, new NetworkSpec(1, 1, 8 * 8 * 3, [16, 8]).ParameterCount);
        Assert.Equal(12449, new NetworkSpec(1, 1, 16 * 16 * 3, [16, 8]).ParameterCount);
        Assert.Equal(209, (perPosition with { Height = 16, Width = 16 }).ParameterCount);
        Assert.Equal((2249, 2048), ((flattenDense with { Height = 16, Width = 16 }).ParameterCount,
            (flattenDense with { Height = 16, Width = 16 }).PositionDependentParameterCount));
        using var generator = new Generator(1);
        using var module = new ConvRegressor(perPosition, generator);
        Assert.Equal(209, module.TrainableCount);
        Assert.Equal([1, 8, 1, 1], module.ExportWeights().Single(w => w.Name == "output.weight").Shape);
    }

    [Fact]
    public void A_flatten_dense_head_too_large_for_one_sample_reports_its_true_parameter_count_and_is_refused()
    {
        var spec = new NetworkSpec(100_000, 100_000, 1, [4096]);

        Assert.Equal((2L * 4096) + (100_000L * 100_000 * 4096) + 1, spec.ParameterCount);
        using var generator = new Generator(1);
        Assert.Throws<ArgumentException>(() => new ConvRegressor(spec, generator));
    }

    [Fact]
    public void A_per_position_head_is_a_last_1x1_conv2d_to_one_channel_on_inputs_of_any_size()
    {
        var spec = new NetworkSpec(2, 2, 4, [5, 6], Activation.Tanh, Head: Head.PerPosition);
        using var generator = new Generator(4);
        using var module = new ConvRegressor(spec, generator);
        module.eval();
        var w = module.ExportWeights().ToDictionary(t => t.Name);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var x = randn([3, 5, 7, 4], generator: generator);

        var h = x.permute(0, 3, 1, 2);
        h = nn.functional.conv2d(h, Kernel(w["hidden.0.conv.weight"]), tensor(w["hidden.0.conv.bias"].Values)).tanh();
        h = nn.functional.conv2d(h, Kernel(w["hidden.1.conv.weight"]), tensor(w["hidden.1.conv.bias"].Values)).tanh();
        var reference = nn.functional.conv2d(h, Kernel(w["output.weight"]), tensor(w["output.bias"].Values)).reshape(3, 35);
        var output = module.forward(x);

        Assert.Equal([3L, 35L], output.shape);
        Assert.True(output.allclose(reference, rtol: 1e-5, atol: 1e-6), "the per-position head differs from conv2d");
    }

    [Fact]
    public void Dropout_changes_training_outputs_only()
    {
        var spec = new NetworkSpec(1, 1, 3, [64], Dropout: 0.5);
        using var generator = new Generator(2);
        using var module = new ConvRegressor(spec, generator);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var x = randn([8, 3], generator: generator);

        module.train();
        var first = module.forward(x);
        var second = module.forward(x);
        module.eval();
        var evalFirst = module.forward(x);
        var evalSecond = module.forward(x);

        Assert.False(first.allclose(second));
        Assert.True(evalFirst.equal(evalSecond).all().item<bool>());
    }

    [Fact]
    public void Invalid_specs_are_refused()
    {
        using var generator = new Generator(1);

        Assert.Throws<ArgumentException>(() => new ConvRegressor(new NetworkSpec(1, 1, 0, [4]), generator));
        Assert.Throws<ArgumentException>(() => new ConvRegressor(new NetworkSpec(1, 1, 2, [4, 0]), generator));
        Assert.Throws<ArgumentException>(() => new ConvRegressor(new NetworkSpec(1, 1, 2, [4], Dropout: 1), generator));
    }

    private static string Describe(LayerInfo l) =>
        $"{l.Type} {l.InChannels}->{l.OutChannels} ({l.Parameters}, {(l.Activation is { } a ? WireNames.Of(a) : "")}, {l.PositionDependentParameters})";

    private static Tensor Matrix(ModelService.Model.Artifacts.NamedTensorData data, int rows, int columns) =>
        tensor(data.Values, [rows, columns]);

    private static Tensor Kernel(ModelService.Model.Artifacts.NamedTensorData data) =>
        tensor(data.Values, data.Shape.Select(d => (long)d).ToArray());
}
