// Package checkpoint saves and loads training checkpoints as safetensors
// files, atomically and with a content checksum, and manages the
// checkpoints of a run directory.
//
// # Atomic saves
//
// [Save] writes PATH.tmp in the destination's directory, fsyncs it, renames
// it over PATH and fsyncs the directory. A crash or an error at any point
// leaves PATH as it was: the previous checkpoint, complete, or nothing. A
// stale PATH.tmp left by a crash is overwritten by the next save.
//
// # Validation
//
// Every checkpoint records in its safetensors metadata the format version
// ([FormatKey] = [FormatVersion]) and the SHA-256 of its metadata and data
// buffer ([ChecksumKey]). [Load] checks both, on top of the structural
// checks of package safetensors, so a truncated file, a corrupt header, a
// changed metadata value (a training position, an embedded config) and
// silently flipped data bytes are all reported, with the path, instead of resuming
// training from damaged weights. Errors wrap [ErrFormat], [ErrChecksum] or
// the safetensors errors ([safetensors.ErrTruncated], ...). A loaded
// checkpoint is a [File] (a [safetensors.File]).
//
// # Run directories
//
// [Dir] keeps a run's checkpoints in one directory:
//
//	step-000000100.safetensors  numbered checkpoints, the newest Keep of them
//	latest.safetensors          the last one saved
//	best.safetensors            the one marked best, never pruned
//
// latest and best are hard links to a numbered checkpoint (or to each
// other) when the file system allows it (copies otherwise), replaced
// atomically. [Dir.SaveBest] writes best before latest, so that a crash
// between the two never leaves latest recording a best model that
// best.safetensors does not hold. [Dir.CleanTemp] removes the temporary
// files of writes a crash interrupted.
package checkpoint
