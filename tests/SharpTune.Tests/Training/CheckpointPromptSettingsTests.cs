using SharpTune.Engine;
using SharpTune.Models;
using SharpTune.Preprocessing;
using SharpTune.Tests.Models;
using SharpTune.Tests.Support;
using SharpTune.Training;

namespace SharpTune.Tests.Training;

public class CheckpointPromptSettingsTests
{
    [Fact]
    public void ACheckpointSavedWithPromptSettingsHoldsThemAndGenerateRunFindsThem()
    {
        var config = RandomModels.Config(ModelArchitecture.Qwen3, tied: true, hidden: 32, heads: 4, kvHeads: 2, headDim: 8, intermediate: 48, vocab: 67);
        var weights = RandomModels.Weights(config, 3, false);
        using var dir = new TempDir();
        using var backend = ComputeBackends.Create();
        using var model = TrainableDecoder.CreateFull(config, weights, backend, new TrainingOptions { MaxTokens = 64 });
        using var trainer = new Trainer(model, new AdamWOptions(), seed: 1);
        var settings = new PromptSettings { Template = "qwen3", TemplateSource = "{{ x }}", DefaultSystem = "Sys", ThinkBlock = ThinkBlockPlacement.Answer };

        TrainingCheckpoint.Save(dir.File("run/checkpoint-1"), trainer, promptSettings: settings);
        TrainingCheckpoint.Save(dir.File("run/checkpoint-2"), trainer);
        Assert.Equal(settings, TrainingCheckpoint.LoadPromptSettings(dir.File("run/checkpoint-1")));
        Assert.Null(TrainingCheckpoint.LoadPromptSettings(dir.File("run/checkpoint-2")));
        Assert.Equal(settings, PromptSettingsFile.Find(dir.File("run"))); // the latest checkpoint that has them
    }
}
