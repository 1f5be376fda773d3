namespace SharpTune.Bench;

/// <summary>Name → benchmark entry point. Each returns a process exit code.</summary>
internal static class BenchRegistry
{
    private static readonly Dictionary<string, Func<string[], int>> Benches = new(StringComparer.Ordinal)
    {
        ["tokenizer"] = TokenizerBench.Run,
        ["template-render"] = TemplateRenderBench.Run,
        ["attention"] = AttentionBench.Run,
        ["gemm"] = GemmBench.Run,
        ["generate"] = GenerateBench.Run,
        ["train-profile"] = TrainProfileBench.Run,
        ["infer-records"] = InferRecordsBench.Run,
        ["infer"] = InferBench.Run,
    };

    public static int Run(string[] args)
    {
        if (args.Length == 0 || !Benches.TryGetValue(args[0], out var bench))
        {
            Console.Error.WriteLine("usage: SharpTune.Bench <name> [args]; names: " + string.Join(", ", Benches.Keys.Order()));
            return args.Length == 0 ? 0 : 1;
        }
        return bench(args[1..]);
    }
}
