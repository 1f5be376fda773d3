using SharpTune.Cli.CommandLine;
using SharpTune.Data.MovieLens;
using SharpTune.Data.Synthetic;

namespace SharpTune.Cli.Commands;

/// <summary>
/// <c>sharptune demo</c>: the main job on built-in data, as a pipeline of named stages that share a context.
/// Today: generate the synthetic MovieLens and prepare it; later stages (train, evaluate) append to <see cref="Stages"/>.
/// </summary>
internal static class DemoCommand
{
    /// <summary>State passed from stage to stage.</summary>
    internal sealed class DemoContext(string outDir, ulong seed, TextWriter output)
    {
        public string OutDir { get; } = outDir;
        public ulong Seed { get; } = seed;
        public TextWriter Out { get; } = output;
        public string DataDir => Path.Combine(OutDir, "data");
        public string DatasetDir => Path.Combine(OutDir, "dataset");
        public SyntheticMovieLensResult? Data { get; set; }
        public PrepareSummary? Prepared { get; set; }
    }

    /// <summary>One step of the demo.</summary>
    internal sealed record DemoStage(string Name, string What, Action<DemoContext> Run);

    /// <summary>The stages, in order.</summary>
    internal static readonly IReadOnlyList<DemoStage> Stages =
    [
        new("data", "generate the built-in synthetic MovieLens", c =>
        {
            c.Data = SyntheticMovieLens.Generate(new SyntheticMovieLensOptions { OutputDirectory = c.DataDir, Seed = c.Seed });
            c.Out.WriteLine($"  {c.Data.Ratings:N0} ratings by {c.Data.Users:N0} users on {c.Data.Movies:N0} movies in {c.DataDir}");
        }),
        new("prepare", "turn the ratings into Yes/No SFT records", c =>
        {
            c.Prepared = MovieLensPreparer.Prepare(new MovieLensPrepareOptions
            {
                RatingsPath = c.Data!.RatingsPath,
                MoviesPath = c.Data.MoviesPath,
                OutputDirectory = c.DatasetDir,
                Seed = c.Seed,
            });
            c.Out.WriteLine();
            c.Out.Write(c.Prepared.ToTable());
            c.Out.WriteLine();
            foreach (var f in new[] { MovieLensPreparer.TrainFile, MovieLensPreparer.EvalFile, MovieLensPreparer.TestFile, MovieLensPreparer.SummaryFile })
                c.Out.WriteLine($"  {Path.Combine(c.DatasetDir, f)}");
        }),
    ];

    public static CliCommand Create() =>
        new CliCommand("demo", "Run the main job on the built-in synthetic data.")
        {
            Description = "Stages: " + string.Join(" -> ", Stages.Select(s => s.Name)) + ".\n" +
                          string.Join("\n", Stages.Select(s => $"  {s.Name}: {s.What}")),
        }
            .Option("out", "output directory", "DIR", "out/demo")
            .Option("seed", "seed of the synthetic data and the splits", "N", "13")
            .Handle(a =>
            {
                var context = new DemoContext(a.RequiredString("out"), PrepareCommands.Seed(a), a.Out);
                for (int i = 0; i < Stages.Count; i++)
                {
                    var stage = Stages[i];
                    a.Out.WriteLine($"[{i + 1}/{Stages.Count}] {stage.Name}: {stage.What}");
                    a.Out.Flush();
                    stage.Run(context);
                }
                a.Out.WriteLine($"\ndemo done; everything is under {context.OutDir}");
                return CliApp.Success;
            });
}
