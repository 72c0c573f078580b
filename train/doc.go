// Package train runs asym's training: it builds the model, binds the
// learning rule, feeds the data, steps the optimizer, evaluates, logs
// metrics, and writes and resumes checkpoints.
//
// # Overview
//
// A [Config] (TOML, decoded strictly) describes a run. [New] builds a
// [Trainer] from it; [Trainer.Run] trains until the configured number of
// epochs, a context cancellation (SIGINT/SIGTERM in the CLI) or a
// divergence. Every run writes into its directory:
//
//	config.toml         the effective configuration
//	metrics.jsonl       one JSON object per epoch (and per alignment log)
//	latest.safetensors  the newest checkpoint (atomically replaced)
//	step-N.safetensors  the last few numbered checkpoints
//	summary.json        the final summary
//
// # Settings
//
// The fields of [Config] are the one table of settings: each leaf field's
// toml, flag and help tags give its key, its command-line flag and the
// flag's help ([Key], [Keys]); the CLI's flags, the valid keys of a config
// file and the keys a sweep may vary derive from them. [Default] is an MLP
// with batch normalisation on the embedded digits, and a rule chosen on the
// command line starts from [RuleDefaults]: settings under which every
// registered rule trains.
//
// # Determinism
//
// Every random draw derives from the run seed: initial weights and backward
// weights from fixed streams, data order from (seed, epoch), augmentation
// from (seed, epoch, position), dropout masks and per-step rule draws from
// (seed, step). The same seed and thread count therefore give bit-identical
// weights, and a run resumed from a checkpoint (which stores weights,
// backward weights, batch-norm statistics, rule state, optimizer state and
// the position in the data) ends bit-identical to an uninterrupted one.
//
// # Errors
//
// Configuration errors wrap [ErrConfig]; a divergence (NaN or Inf in the
// loss, a gradient or a weight; a training loss [LossExplosion] times its
// start; a test accuracy back at chance after the run had learned) stops
// the run at the step it happens with an error wrapping [ErrDiverged] that
// names the step and the parameter or layer, leaving the last good
// checkpoint in place; an interruption saves a
// checkpoint and returns an error wrapping [ErrInterrupted], or
// [ErrInterruptedUnsaved] when that checkpoint cannot be written.
//
// # Run directories and crashes
//
// [Trainer.Run] locks its run directory (file "lock" with the PID and host;
// a second process gets [ErrLocked], a lock whose process has ended is
// replaced and reported on [Trainer.Log]). Checkpoints are written through
// [checkpoint.Dir]: numbered ones every CheckpointEvery steps with latest
// hard-linked to them, latest at every epoch's end, and best (written before
// latest, so that a crash between the two is replayed) when the test
// accuracy improves. [Resume] assembles a resumed run for the CLI and the
// experiment runner alike: it refuses a run whose config.toml was edited
// ([ErrConfigEdited]), restarts one that stopped before its first
// checkpoint, and reports a finished one as complete; Run then truncates
// metrics.jsonl to its length at the checkpoint (dropping records written
// after it, and a line a crash cut short), removes the temporary files of
// interrupted writes, and rebuilds a finished run's missing summary.json
// from the checkpoint. A run that failed before its first checkpoint leaves
// a directory that a new run may reuse.
package train
