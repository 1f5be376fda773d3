using SharpTune.Models;

namespace SharpTune.Training;

/// <summary>The linear projections of a decoder layer that LoRA can adapt, named as in Hugging Face checkpoints.</summary>
public enum LoraTarget
{
    /// <summary><c>self_attn.q_proj</c> <c>[heads·headDim, hidden]</c>.</summary>
    QProj,

    /// <summary><c>self_attn.k_proj</c> <c>[kvHeads·headDim, hidden]</c>.</summary>
    KProj,

    /// <summary><c>self_attn.v_proj</c> <c>[kvHeads·headDim, hidden]</c>.</summary>
    VProj,

    /// <summary><c>self_attn.o_proj</c> <c>[hidden, heads·headDim]</c>.</summary>
    OProj,

    /// <summary><c>mlp.gate_proj</c> <c>[intermediate, hidden]</c>.</summary>
    GateProj,

    /// <summary><c>mlp.up_proj</c> <c>[intermediate, hidden]</c>.</summary>
    UpProj,

    /// <summary><c>mlp.down_proj</c> <c>[hidden, intermediate]</c>.</summary>
    DownProj,
}

/// <summary>Names, module paths and shapes of <see cref="LoraTarget"/>s.</summary>
public static class LoraTargets
{
    /// <summary>Every projection, in checkpoint order (what <c>all</c> / <c>all-linear</c> selects; the LM head is never adapted).</summary>
    public static IReadOnlyList<LoraTarget> All { get; } =
        [LoraTarget.QProj, LoraTarget.KProj, LoraTarget.VProj, LoraTarget.OProj, LoraTarget.GateProj, LoraTarget.UpProj, LoraTarget.DownProj];

    /// <summary>The decoder projection a target adapts (same order, same names).</summary>
    public static DecoderProjection Projection(this LoraTarget t) => t switch
    {
        LoraTarget.QProj => DecoderProjection.QProj,
        LoraTarget.KProj => DecoderProjection.KProj,
        LoraTarget.VProj => DecoderProjection.VProj,
        LoraTarget.OProj => DecoderProjection.OProj,
        LoraTarget.GateProj => DecoderProjection.GateProj,
        LoraTarget.UpProj => DecoderProjection.UpProj,
        LoraTarget.DownProj => DecoderProjection.DownProj,
        _ => throw new ArgumentOutOfRangeException(nameof(t)),
    };

    /// <summary>The module name PEFT's <c>target_modules</c> uses, e.g. <c>q_proj</c>.</summary>
    public static string ModuleName(this LoraTarget t) => CheckpointLayout.ModuleName(t.Projection());

    /// <summary>The path inside a decoder layer, e.g. <c>self_attn.q_proj</c> or <c>mlp.down_proj</c>.</summary>
    public static string ModulePath(this LoraTarget t) => CheckpointLayout.ModulePath(t.Projection());

    /// <summary>The Hugging Face base weight name of layer <paramref name="layer"/>, e.g. <c>model.layers.0.self_attn.q_proj.weight</c>.</summary>
    public static string BaseWeightName(this LoraTarget t, int layer) => CheckpointLayout.ProjectionWeightName(layer, t.Projection());

    /// <summary>PEFT's key prefix of the module in layer <paramref name="layer"/>, e.g. <c>base_model.model.model.layers.0.self_attn.q_proj</c>.</summary>
    public static string PeftPrefix(this LoraTarget t, int layer) => "base_model.model." + CheckpointLayout.ModulePath(layer, t.Projection());

    /// <summary><c>(out, in)</c> features of the projection for <paramref name="c"/>.</summary>
    public static (int Out, int In) Shape(this LoraTarget t, ModelConfig c) => CheckpointLayout.ProjectionShape(c, t.Projection());

    /// <summary>Looks a module name up (<c>q_proj</c> …); null when it names no projection.</summary>
    public static LoraTarget? FromModuleName(string name)
    {
        foreach (var t in All)
            if (t.ModuleName() == name) return t;
        return null;
    }

    /// <summary>
    /// Parses a target list: <c>all</c> or <c>all-linear</c> (every projection), or comma-separated module names
    /// (<c>q_proj,v_proj</c>). An unknown name is a <see cref="UserException"/> naming <paramref name="what"/>.
    /// The result is in checkpoint order without duplicates.
    /// </summary>
    public static IReadOnlyList<LoraTarget> Parse(string text, string what)
    {
        var s = text.Trim();
        if (s is "all" or "all-linear") return All;
        var chosen = new HashSet<LoraTarget>();
        foreach (var part in s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            chosen.Add(FromModuleName(part) ?? throw new UserException(
                $"{what}: unknown LoRA target '{part}'; expected all, all-linear or a comma-separated list of {string.Join(", ", All.Select(t => t.ModuleName()))}"));
        if (chosen.Count == 0) throw new UserException($"{what}: expected at least one LoRA target");
        return All.Where(chosen.Contains).ToList();
    }
}
