using SharpTune.Cli.CommandLine;
using SharpTune.Cli.Commands;
using SharpTune.Evaluation.Sanity;
using SharpTune.Models;

namespace SharpTune.Cli;

/// <summary>The tree of verbs. Each area registers its verbs in its own file under Commands/.</summary>
public static class CommandTree
{
    /// <summary>Builds the root command.</summary>
    public static CliCommand Root()
    {
        var root = new CliCommand("sharptune", "Supervised fine-tuning of decoder LLMs, in C#.")
        {
            Description = "SharpTune prepares SFT data, tokenizes and masks it, and trains and runs decoder LLMs on its own compute engine.",
        };
        root.Add(VersionCommand.Create());
        root.Add(PrepareCommands.Create());
        root.Add(DemoCommand.Create());
        root.Add(InitModelCommand.Create());
        root.Add(ConvertCommand.Create());
        root.Add(AdapterCommands.Create());
        root.Add(TokenizerCommands.Create());
        root.Add(TemplateCommands.Create());
        root.Add(GenerateCommand.Create(ModelFolder.Open));
        root.Add(PlotCommand.Create());
        root.Add(BehaviourCommands.GenerateData());
        root.Add(BehaviourCommands.Sanity(request => new ModelSanityResponder(request, ModelFolder.Open)));
        root.Add(ReportCommand.Create());
        foreach (var c in InferCommands.Create(ModelFolder.Open)) root.Add(c);
        root.Add(BenchCommands.Create());
        // train finishes its step and writes a checkpoint on the first SIGINT/SIGTERM itself (TrainCommand's handlers);
        // the process-wide handler of CliApp.RunProcess stands back for it.
        root.Add(TrainCommand.Create().HandlingInterruptsItself());
        foreach (var c in PreprocessCommands.Create()) root.Add(c);
        foreach (var c in EvaluationCommands.Create()) root.Add(c);
        return root;
    }
}
