using SharpTune.Engine;
using SharpTune.Models;

namespace SharpTune.Training;

/// <summary>AdamW's hyper-parameters (PyTorch's defaults except weight decay, which is 0 as in transformers' TrainingArguments).</summary>
public sealed record AdamWOptions
{
    /// <summary>Base learning rate (before the schedule).</summary>
    public double LearningRate { get; init; } = 1e-4;

    /// <summary>β1.</summary>
    public double Beta1 { get; init; } = 0.9;

    /// <summary>β2.</summary>
    public double Beta2 { get; init; } = 0.999;

    /// <summary>eps.</summary>
    public double Epsilon { get; init; } = 1e-8;

    /// <summary>Decoupled weight decay for parameters that decay (<see cref="TrainableParameter.Decay"/>).</summary>
    public double WeightDecay { get; init; }

    /// <summary>Clip the global gradient norm to this before each update (null: no clipping).</summary>
    public double? MaxGradNorm { get; init; }

    /// <summary>Throws a <see cref="UserException"/> naming the field when a value is out of range.</summary>
    public void Validate()
    {
        if (!(LearningRate >= 0) || double.IsInfinity(LearningRate)) throw new UserException($"learning rate must be a non-negative number, got {LearningRate}");
        if (!(Beta1 >= 0 && Beta1 < 1)) throw new UserException($"adam beta1 must be in [0, 1), got {Beta1}");
        if (!(Beta2 >= 0 && Beta2 < 1)) throw new UserException($"adam beta2 must be in [0, 1), got {Beta2}");
        if (!(Epsilon > 0)) throw new UserException($"adam epsilon must be positive, got {Epsilon}");
        if (!(WeightDecay >= 0)) throw new UserException($"weight decay must be non-negative, got {WeightDecay}");
        if (MaxGradNorm is double m && !(m > 0)) throw new UserException($"max grad norm must be positive, got {m}");
    }
}

/// <summary>
/// AdamW over a model's trainable parameters, as <c>torch.optim.AdamW</c> (single-tensor) does it, with PyTorch's
/// <c>clip_grad_norm_</c> before the update. The moments live in their own backend arena, zero at the start.
/// </summary>
public sealed class AdamWOptimizer : IDisposable
{
    private readonly IComputeBackend _b;
    private readonly IReadOnlyList<TrainableParameter> _parameters;
    private readonly Arena _state;
    private readonly Tensor[] _expAvg, _expAvgSq;

    /// <summary>Allocates the zeroed moments of <paramref name="parameters"/>.</summary>
    public AdamWOptimizer(IComputeBackend backend, IReadOnlyList<TrainableParameter> parameters, AdamWOptions options)
    {
        options.Validate();
        _b = backend;
        _parameters = parameters;
        Options = options;
        _state = backend.CreateArena("optimizer state");
        _expAvg = new Tensor[parameters.Count];
        _expAvgSq = new Tensor[parameters.Count];
        for (int i = 0; i < parameters.Count; i++)
        {
            var v = parameters[i].Value;
            _expAvg[i] = _state.Allocate(ElementType.F32, v.Rows, v.Cols);
            _expAvgSq[i] = _state.Allocate(ElementType.F32, v.Rows, v.Cols);
        }
    }

    /// <summary>The hyper-parameters.</summary>
    public AdamWOptions Options { get; }

    /// <summary>Updates done so far.</summary>
    public long Steps { get; private set; }

    /// <summary>Bytes of the moments.</summary>
    public long Bytes => _state.Bytes;

    /// <summary>The global L2 norm of all gradients (in double over fp32 values).</summary>
    public double GradientNorm()
    {
        double sum = 0;
        foreach (var p in _parameters) sum += _b.SumOfSquares(p.Grad);
        return Math.Sqrt(sum);
    }

    /// <summary>
    /// PyTorch's <c>clip_grad_norm_</c>: scales every gradient by <c>min(1, max / (norm + 1e-6))</c> when
    /// <see cref="AdamWOptions.MaxGradNorm"/> is set. Returns the norm before clipping.
    /// </summary>
    public double ClipGradients()
    {
        double norm = GradientNorm();
        if (Options.MaxGradNorm is double max)
        {
            float coefficient = (float)max / ((float)norm + 1e-6f);
            if (coefficient < 1f)
                foreach (var p in _parameters) _b.Scale(p.Grad, coefficient);
        }
        return norm;
    }

    /// <summary>One update of every parameter with learning rate <paramref name="learningRate"/>.</summary>
    public void Step(double learningRate)
    {
        Steps++;
        for (int i = 0; i < _parameters.Count; i++)
        {
            var p = _parameters[i];
            var step = new AdamWStep(learningRate, Options.Beta1, Options.Beta2, Options.Epsilon, p.Decay ? Options.WeightDecay : 0, Steps);
            _b.AdamW(p.Value, p.Grad, _expAvg[i], _expAvgSq[i], step);
        }
    }

    /// <summary>The moments on the host, as <c>NAME.exp_avg</c> and <c>NAME.exp_avg_sq</c> tensors.</summary>
    public InMemoryTensorSource ExportState()
    {
        var source = new InMemoryTensorSource();
        for (int i = 0; i < _parameters.Count; i++)
        {
            source.Add(_parameters[i].Name + ".exp_avg", _parameters[i].Shape, _b.DownloadArray(_expAvg[i]));
            source.Add(_parameters[i].Name + ".exp_avg_sq", _parameters[i].Shape, _b.DownloadArray(_expAvgSq[i]));
        }
        return source;
    }

    /// <summary>Restores moments saved by <see cref="ExportState"/> and the number of updates done.</summary>
    public void ImportState(ITensorSource source, long steps, string what)
    {
        if (steps < 0) throw new UserException($"{what}: optimizer step {steps} is negative");
        for (int i = 0; i < _parameters.Count; i++)
            foreach (var (suffix, tensor) in new[] { (".exp_avg", _expAvg[i]), (".exp_avg_sq", _expAvgSq[i]) })
            {
                string name = _parameters[i].Name + suffix;
                if (!source.TryGetInfo(name, out var info) || !info.Shape.SequenceEqual(_parameters[i].Shape))
                    throw new UserException($"{what}: optimizer state '{name}' [{string.Join(", ", _parameters[i].Shape)}] is missing or has another shape");
                _b.Upload(source.ReadSingles(name), tensor);
            }
        Steps = steps;
    }

    /// <inheritdoc />
    public void Dispose() => _state.Dispose();
}
